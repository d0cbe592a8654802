package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/servertest"
	"github.com/shopscore/shopscore/server/webhook"
)

// TestConsole_Webhooks: the admin registers an endpoint on a receiver on
// loopback in the console, subscribed to action and visit events, and
// sees its secret once; sends a test event and finds it in the delivery
// log with the receiver's 204; makes the receiver fail and sends it
// again (a 500 in the log), then again once it is back (204); rotates
// the secret and sends a test event signed by both secrets. Every call
// the receiver got is checked against the secrets the console showed.
func TestConsole_Webhooks(t *testing.T) {
	needBrowser(t)
	rc := newReceiver(t, time.Now)
	srv := servertest.Run(t, server.Config{
		Console:   mustConsole(t),
		LoginRate: server.Rate{Burst: 100, Every: time.Second},
		// Retries wait long enough that only "send again" sends again.
		Webhooks: server.Webhooks{AllowLoopback: true, Poll: 50 * time.Millisecond,
			Schedule: webhook.Schedule{Base: 10 * time.Minute, Max: 10 * time.Minute}},
	})
	res := journey(t, srv.URL, "webhooks", map[string]string{"SHOPSCORE_RECEIVER": rc.URL, "SHOPSCORE_RECEIVER_CONTROL": rc.control()})
	first, _ := res["secret"].(string)
	rotated, _ := res["rotated"].(string)
	require.NotEmpty(t, first)
	require.NotEmpty(t, rotated)
	assert.NotEqual(t, first, rotated)

	calls := rc.got()
	order, n := byID(calls)
	require.Len(t, order, 2, "two test events: before and after the rotation")
	var codes []int
	for _, c := range calls {
		if c.ID == order[0] {
			codes = append(codes, c.Status)
		}
	}
	assert.Equal(t, []int{http.StatusNoContent, http.StatusInternalServerError, http.StatusNoContent}, codes,
		"delivered, sent again to the failing receiver, sent again once it was back")
	assert.Equal(t, 1, n[order[1]])
	for _, c := range calls {
		var body struct {
			ID   string `json:"id"`
			Type string `json:"type"`
			Data struct {
				Endpoint struct{ URL string }  `json:"endpoint"`
				SentBy   struct{ Name string } `json:"sent_by"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(c.Body, &body))
		assert.Equal(t, c.ID, body.ID)
		assert.Equal(t, "webhook.test", body.Type)
		assert.Equal(t, rc.URL, body.Data.Endpoint.URL)
		assert.NotEmpty(t, body.Data.SentBy.Name, "the admin who sent it, by name")
		if c.ID == order[0] {
			require.NoError(t, verifySignature(first, c, time.Minute), "signed with the secret shown at registration")
			assert.Error(t, verifySignature(rotated, c, time.Minute), "not with one made later")
		} else {
			require.NoError(t, verifySignature(rotated, c, time.Minute), "signed with the new secret")
			require.NoError(t, verifySignature(first, c, time.Minute), "and with the previous one while they overlap")
		}
	}
	tampered := calls[0]
	tampered.Body = append([]byte(nil), tampered.Body...)
	tampered.Body[len(tampered.Body)-2] ^= 1
	assert.Error(t, verifySignature(first, tampered, time.Minute), "the check refuses a changed body")
}
