package server

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// TestPolicy_CoversEveryProcedure keeps the authorization table complete:
// every procedure of every shopscore service is either public or has roles,
// and the table names no procedure that does not exist.
func TestPolicy_CoversEveryProcedure(t *testing.T) {
	seen := map[string]bool{}
	protoregistry.GlobalFiles.RangeFilesByPackage("shopscore.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			for j := range sd.Methods().Len() {
				proc := "/" + string(sd.FullName()) + "/" + string(sd.Methods().Get(j).Name())
				seen[proc] = true
				_, inPolicy := policy[proc]
				assert.True(t, inPolicy != public[proc], "%s must be in exactly one of public and policy", proc)
				if inPolicy {
					assert.NotEmpty(t, policy[proc], "%s allows no role", proc)
				}
			}
		}
		return true
	})
	assert.NotEmpty(t, seen)
	for proc := range policy {
		assert.True(t, seen[proc], "policy names unknown procedure %s", proc)
	}
	for proc := range public {
		assert.True(t, seen[proc], "public names unknown procedure %s", proc)
	}
}
