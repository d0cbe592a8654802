package server

import (
	"github.com/shopscore/shopscore/audit"
	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
)

var roleToProto = map[audit.Role]v1.Role{
	audit.RoleShopper: v1.Role_ROLE_SHOPPER,
	audit.RoleManager: v1.Role_ROLE_MANAGER,
	audit.RoleHR:      v1.Role_ROLE_HR,
	audit.RoleAdmin:   v1.Role_ROLE_ADMIN,
	audit.RoleStaff:   v1.Role_ROLE_STAFF,
}

// roleFromProto returns the domain role of r. Errors: EINVALID.
func roleFromProto(r v1.Role) (audit.Role, error) {
	for k, v := range roleToProto {
		if v == r {
			return k, nil
		}
	}
	return "", audit.Errorf(audit.EINVALID, "role is required: one of ROLE_SHOPPER, ROLE_MANAGER, ROLE_HR, ROLE_ADMIN, ROLE_STAFF")
}

func userToProto(u *audit.User) *v1.User {
	return &v1.User{
		Id:          u.ID,
		Email:       u.Email,
		DisplayName: u.DisplayName,
		Role:        roleToProto[u.Role],
		Disabled:    u.Disabled,
		CreateTime:  timestamppb.New(u.CreatedAt),
	}
}

func sessionToProto(s *audit.Session) *v1.Session {
	p := &v1.Session{
		Id:           s.ID,
		UserId:       s.UserID,
		DeviceId:     s.DeviceID,
		DeviceName:   s.DeviceName,
		CreateTime:   timestamppb.New(s.CreatedAt),
		LastSeenTime: timestamppb.New(s.LastSeenAt),
		RevokeReason: s.RevokeReason,
		UserEmail:    s.UserEmail,
		UserName:     s.UserName,
	}
	if s.Revoked() {
		p.RevokeTime = timestamppb.New(s.RevokedAt)
	}
	return p
}
