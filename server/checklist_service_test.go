package server_test

import (
	"bytes"
	"net/http"
	"os"
	"testing"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
)

func readPack(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/pack.json")
	require.NoError(t, err)
	return b
}

func TestChecklistService(t *testing.T) {
	ts := MustRunServer(t, nil)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := clientsOf(ts, p.client, p.opts...)
			manager := mustLogin(t, c, audit.RoleManager, "cl-"+p.name).Tokens.AccessToken
			shopper := mustLogin(t, c, audit.RoleShopper, "cl-"+p.name).Tokens.AccessToken
			hr := mustLogin(t, c, audit.RoleHR, "cl-"+p.name).Tokens.AccessToken
			pack := readPack(t)
			id := "kiosk-visit"
			// Each protocol gets its own checklist id, so the versions below
			// are predictable.
			pack = bytes.ReplaceAll(pack, []byte(`"kiosk-visit"`), []byte(`"kiosk-visit-`+p.name+`"`))
			id += "-" + p.name

			t.Run("ImportPublishAndRead", func(t *testing.T) {
				imp, err := call(t, c.Checklist.ImportPack, manager, &v1.ImportPackRequest{FileName: "pack.json", Content: pack})
				require.NoError(t, err)
				require.Len(t, imp.Versions, 1)
				draft := imp.Versions[0]
				assert.Equal(t, v1.ChecklistVersionState_CHECKLIST_VERSION_STATE_DRAFT, draft.State)
				assert.Equal(t, int32(1), draft.Version)
				assert.Equal(t, int32(2), draft.QuestionCount)
				assert.Empty(t, draft.ContentHash)

				// Shoppers see no drafts.
				_, err = call(t, c.Checklist.GetChecklistVersion, shopper, &v1.GetChecklistVersionRequest{ChecklistId: id, Version: 1})
				requireCode(t, connect.CodeNotFound, err)
				list, err := call(t, c.Checklist.ListChecklists, shopper, &v1.ListChecklistsRequest{})
				require.NoError(t, err)
				for _, v := range list.Versions {
					assert.NotEqual(t, id, v.ChecklistId, "a shopper listed a draft")
				}

				pub, err := call(t, c.Checklist.PublishVersion, manager, &v1.PublishVersionRequest{ChecklistId: id, Version: 1})
				require.NoError(t, err)
				assert.Equal(t, v1.ChecklistVersionState_CHECKLIST_VERSION_STATE_PUBLISHED, pub.Version.State)
				assert.Len(t, pub.Version.ContentHash, 64)
				assert.NotNil(t, pub.Version.PublishTime)

				got, err := call(t, c.Checklist.GetChecklistVersion, shopper, &v1.GetChecklistVersionRequest{ChecklistId: id})
				require.NoError(t, err, "version 0 is the latest published")
				assert.Equal(t, pub.Version.ContentHash, got.Version.ContentHash)
				assert.Contains(t, string(got.Version.Content), `"greet"`)

				// Publishing twice is refused: a published version never changes.
				_, err = call(t, c.Checklist.PublishVersion, manager, &v1.PublishVersionRequest{ChecklistId: id, Version: 1})
				requireCode(t, connect.CodeFailedPrecondition, err)

				// The same content again changes nothing.
				again, err := call(t, c.Checklist.ImportPack, manager, &v1.ImportPackRequest{FileName: "pack.json", Content: pack})
				require.NoError(t, err)
				assert.Equal(t, int32(1), again.Versions[0].Version)
				assert.Equal(t, v1.ChecklistVersionState_CHECKLIST_VERSION_STATE_PUBLISHED, again.Versions[0].State)

				// Changed content is a new version; version 1 stays as it was.
				changed := bytes.Replace(pack, []byte("Seconds until greeted"), []byte("Seconds until a greeting"), 1)
				v2, err := call(t, c.Checklist.ImportPack, manager, &v1.ImportPackRequest{FileName: "pack.json", Content: changed, Publish: true})
				require.NoError(t, err)
				assert.Equal(t, int32(2), v2.Versions[0].Version)
				assert.NotEqual(t, pub.Version.ContentHash, v2.Versions[0].ContentHash)
				v1again, err := call(t, c.Checklist.GetChecklistVersion, manager, &v1.GetChecklistVersionRequest{ChecklistId: id, Version: 1})
				require.NoError(t, err)
				assert.Equal(t, pub.Version.ContentHash, v1again.Version.ContentHash)
				assert.Equal(t, got.Version.Content, v1again.Version.Content)

				retired, err := call(t, c.Checklist.RetireVersion, manager, &v1.RetireVersionRequest{ChecklistId: id, Version: 1})
				require.NoError(t, err)
				assert.Equal(t, v1.ChecklistVersionState_CHECKLIST_VERSION_STATE_RETIRED, retired.Version.State)
				_, err = call(t, c.Checklist.RetireVersion, manager, &v1.RetireVersionRequest{ChecklistId: id, Version: 1})
				requireCode(t, connect.CodeFailedPrecondition, err)
			})
			t.Run("ErrInvalidPack", func(t *testing.T) {
				bad := bytes.Replace(pack, []byte(`"op": "<="`), []byte(`"op": "<"`), 1)
				_, err := call(t, c.Checklist.ImportPack, manager, &v1.ImportPackRequest{FileName: "kiosk.json", Content: bad})
				requireCode(t, connect.CodeInvalidArgument, err)
				assert.Contains(t, err.Error(), "kiosk.json:17:22: checklists[0].sections[0].questions[0]")
				assert.Contains(t, err.Error(), `target "op" must be "<=" or ">="`)
				_, err = call(t, c.Checklist.ImportPack, manager, &v1.ImportPackRequest{FileName: "empty.json"})
				requireCode(t, connect.CodeInvalidArgument, err)
			})
			t.Run("ErrNotFound", func(t *testing.T) {
				_, err := call(t, c.Checklist.PublishVersion, manager, &v1.PublishVersionRequest{ChecklistId: "nope", Version: 1})
				requireCode(t, connect.CodeNotFound, err)
				_, err = call(t, c.Checklist.GetChecklistVersion, manager, &v1.GetChecklistVersionRequest{ChecklistId: "nope"})
				requireCode(t, connect.CodeNotFound, err)
				_, err = call(t, c.Checklist.PublishVersion, manager, &v1.PublishVersionRequest{ChecklistId: id})
				requireCode(t, connect.CodeInvalidArgument, err)
			})
			t.Run("ErrPermissionDenied", func(t *testing.T) {
				for _, tok := range []string{shopper, hr} {
					_, err := call(t, c.Checklist.ImportPack, tok, &v1.ImportPackRequest{FileName: "pack.json", Content: pack})
					requireCode(t, connect.CodePermissionDenied, err)
					_, err = call(t, c.Checklist.PublishVersion, tok, &v1.PublishVersionRequest{ChecklistId: id, Version: 2})
					requireCode(t, connect.CodePermissionDenied, err)
				}
			})
		})
	}
}

// TestChecklistService_DemoPack checks that the demo pack that make run
// loads is there, published, for every channel it covers.
func TestChecklistService_DemoPack(t *testing.T) {
	ts := MustRunServer(t, nil)
	c := clientsOf(ts, http.DefaultClient)
	tok := mustLogin(t, c, audit.RoleShopper, "demo").Tokens.AccessToken
	list, err := call(t, c.Checklist.ListChecklists, tok, &v1.ListChecklistsRequest{})
	require.NoError(t, err)
	channels := map[v1.Channel]bool{}
	for _, v := range list.Versions {
		assert.Equal(t, v1.ChecklistVersionState_CHECKLIST_VERSION_STATE_PUBLISHED, v.State)
		channels[v.Channel] = true
	}
	for _, ch := range []v1.Channel{v1.Channel_CHANNEL_STORE_VISIT, v1.Channel_CHANNEL_BACK_OFFICE_CALL,
		v1.Channel_CHANNEL_DELIVERY, v1.Channel_CHANNEL_EMAIL, v1.Channel_CHANNEL_CHAT} {
		assert.True(t, channels[ch], "demo pack lacks %v", ch)
	}
}
