package server

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
)

// TestRequestLimits_EveryField keeps the limits table complete: every
// string, bytes and repeated field of every request message (and of the
// messages inside them) has a row, and no row names a field no request
// can carry.
func TestRequestLimits_EveryField(t *testing.T) {
	reachable := map[protoreflect.FullName]bool{}
	visited := map[protoreflect.FullName]bool{}
	var walk func(md protoreflect.MessageDescriptor)
	walk = func(md protoreflect.MessageDescriptor) {
		if visited[md.FullName()] || strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
			return
		}
		visited[md.FullName()] = true
		for i := range md.Fields().Len() {
			fd := md.Fields().Get(i)
			if fd.Kind() == protoreflect.MessageKind {
				walk(fd.Message())
			}
			if fd.Kind() != protoreflect.StringKind && fd.Kind() != protoreflect.BytesKind && !fd.IsList() {
				continue
			}
			reachable[fd.FullName()] = true
			lim, ok := requestLimits[fd.FullName()]
			if !assert.True(t, ok, "requestLimits has no row for %s", fd.FullName()) {
				continue
			}
			if fd.IsList() {
				assert.Positive(t, lim.Items, "%s is repeated: how many items?", fd.FullName())
			}
			if fd.Kind() == protoreflect.StringKind || fd.Kind() == protoreflect.BytesKind {
				assert.Positive(t, lim.Bytes, "%s: how many bytes?", fd.FullName())
			}
		}
	}
	protoregistry.GlobalFiles.RangeFilesByPackage("shopscore.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			for j := range sd.Methods().Len() {
				walk(sd.Methods().Get(j).Input())
			}
		}
		return true
	})
	require.NotEmpty(t, reachable)
	for name := range requestLimits {
		assert.True(t, reachable[name], "requestLimits names %s, which no request carries", name)
	}
}

func TestCheckRequest(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	for _, tc := range []struct {
		name string
		msg  interface{ ProtoReflect() protoreflect.Message }
		code audit.Code
	}{
		{"OK", &v1.LoginRequest{Email: long(audit.MaxEmailLen), Password: "p", DeviceId: "d"}, ""},
		{"LongEmail", &v1.LoginRequest{Email: long(audit.MaxEmailLen + 1)}, audit.EINVALID},
		{"NestedStoreCode", &v1.CreateStoreRequest{Store: &v1.Store{Code: long(audit.MaxCodeLen + 1)}}, audit.EINVALID},
		{"TooManyManagers", &v1.CreateStoreRequest{Store: &v1.Store{ManagerIds: make([]string, maxManagers+1)}}, audit.EEXHAUSTED},
		{"LongManagerID", &v1.CreateStoreRequest{Store: &v1.Store{ManagerIds: []string{long(audit.MaxIDLen + 1)}}}, audit.EINVALID},
		{"LongComment", &v1.ReturnVisitRequest{Comments: []*v1.ReviewComment{{Text: long(audit.MaxNoteLen + 1)}}}, audit.EINVALID},
		{"TooManySpecs", &v1.BulkCreateAssignmentsRequest{Specs: make([]*v1.AssignmentSpec, maxBulk+1)}, audit.EEXHAUSTED},
		{"LongPack", &v1.ImportPackRequest{Content: make([]byte, maxPackBytes+1)}, audit.EINVALID},
		{"LongFileName", &v1.ImportPackRequest{FileName: long(audit.MaxFileNameLen + 1)}, audit.EINVALID},
		// A pushed visit is checked as its item, not with the batch.
		{"PushedVisitLeftToItem", &v1.PushRequest{Mutations: []*v1.Mutation{{Kind: &v1.Mutation_SubmitVisit{
			SubmitVisit: &v1.SubmitVisit{Visit: &v1.Visit{Notes: long(3 << 20)}}}}}}, ""},
		{"MutationID", &v1.PushRequest{Mutations: []*v1.Mutation{{MutationId: long(audit.MaxIDLen + 1)}}}, audit.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkMessage(tc.msg.ProtoReflect(), "", true)
			if tc.code == "" {
				assert.NoError(t, err)
				return
			}
			assert.Equal(t, tc.code, audit.ErrorCode(err), "error %v", err)
			assert.Less(t, len(audit.ErrorMessage(err)), 200, "the message never repeats the value")
		})
	}
	t.Run("Item", func(t *testing.T) {
		err := checkItem(&v1.SubmitVisit{Visit: &v1.Visit{Notes: long(3 << 20)}})
		assert.Equal(t, audit.EINVALID, audit.ErrorCode(err))
		assert.Contains(t, audit.ErrorMessage(err), "visit.notes")
	})
}
