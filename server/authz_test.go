package server

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
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
		assert.True(t, seen[proc] || httpProcedures[proc], "policy names unknown procedure %s", proc)
	}
	// A token reaches only procedures of the table, and the reports
	// scope only reads (no procedure of an editor or an admin alone).
	for proc, scope := range tokenScopes {
		roles, ok := policy[proc]
		assert.True(t, ok, "tokenScopes names %s, which policy does not", proc)
		if scope == audit.ScopeReports {
			assert.Contains(t, roles, audit.RoleHR, "the reports scope reaches %s, which HR may not read", proc)
		}
	}
	for proc := range public {
		assert.True(t, seen[proc], "public names unknown procedure %s", proc)
	}
}

// TestPolicy_StaffReachesOnlyHisOwn holds an employee's account
// (audit.RoleStaff) to his own results and his own session: every other
// procedure of every service refuses him, and his results refuse every
// other role.
func TestPolicy_StaffReachesOnlyHisOwn(t *testing.T) {
	own := map[string]bool{
		shopscorev1connect.AuthServiceLogoutProcedure:            true,
		shopscorev1connect.AuthServiceWhoAmIProcedure:            true,
		shopscorev1connect.MyResultsServiceGetMyProfileProcedure: true,
		shopscorev1connect.MyResultsServiceListMyVisitsProcedure: true,
		shopscorev1connect.MyResultsServiceGetMyVisitProcedure:   true,
		shopscorev1connect.MyResultsServiceGetMyPayProcedure:     true,
		shopscorev1connect.MyResultsServiceGetMyPhotoProcedure:   true,
		// His own appeals, filed (with their evidence) and followed
		// through messages of his own.
		shopscorev1connect.MyResultsServiceFileMyAppealProcedure:             true,
		shopscorev1connect.MyResultsServiceListMyAppealsProcedure:            true,
		shopscorev1connect.MyResultsServiceGetMyAppealProcedure:              true,
		shopscorev1connect.MyResultsServiceCreateMyEvidenceUploadProcedure:   true,
		shopscorev1connect.MyResultsServiceFinalizeMyEvidenceUploadProcedure: true,
	}
	staff := audit.Principal{UserID: "u", Role: audit.RoleStaff}
	n := 0
	protoregistry.GlobalFiles.RangeFilesByPackage("shopscore.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			for j := range sd.Methods().Len() {
				proc := "/" + string(sd.FullName()) + "/" + string(sd.Methods().Get(j).Name())
				if public[proc] {
					continue
				}
				n++
				err := authorizeRole(proc, staff, true)
				if own[proc] {
					assert.NoError(t, err, "%s is the employee's own", proc)
				} else {
					assert.Equal(t, audit.EFORBIDDEN, audit.ErrorCode(err), "%s must refuse an employee's account", proc)
				}
				if sd.FullName() == shopscorev1connect.MyResultsServiceName {
					for _, r := range audit.Roles {
						if r != audit.RoleStaff {
							assert.Error(t, authorizeRole(proc, audit.Principal{UserID: "u", Role: r}, true), "%s is only an employee's, not a %s's", proc, r)
						}
					}
				}
			}
		}
		return true
	})
	assert.Greater(t, n, len(own))
}
