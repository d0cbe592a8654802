package protocol

import (
	"github.com/shopscore/shopscore/audit"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
)

// enum is the one table between a domain enumeration (a string type in
// audit) and its wire enum, read in both directions. A domain value with
// no row goes out as the wire's UNSPECIFIED (0), which the other end
// refuses; a wire value with no row is an error, never a default.
type enum[D ~string, W ~int32] struct {
	what string // "visit state": names the enum in errors
	to   map[D]W
}

// toProto returns the wire value of d; 0 (UNSPECIFIED) when d has no row.
func (e enum[D, W]) toProto(d D) W { return e.to[d] }

// fromProto returns the domain value of w. Errors: EINVALID for
// UNSPECIFIED or a value this side does not know.
func (e enum[D, W]) fromProto(w W) (D, error) {
	if w != 0 {
		for d, x := range e.to {
			if x == w {
				return d, nil
			}
		}
		return "", audit.Errorf(audit.EINVALID, "unknown %s %d", e.what, w)
	}
	return "", audit.Errorf(audit.EINVALID, "%s is not set", e.what)
}

// filterFromProto is fromProto for a filter, where UNSPECIFIED means
// "any" and is "". Errors: EINVALID for a value this side does not know.
func (e enum[D, W]) filterFromProto(w W) (D, error) {
	if w == 0 {
		return "", nil
	}
	return e.fromProto(w)
}

var channels = enum[audit.Channel, v1.Channel]{what: "channel", to: map[audit.Channel]v1.Channel{
	audit.ChannelStoreVisit:     v1.Channel_CHANNEL_STORE_VISIT,
	audit.ChannelPhoneCall:      v1.Channel_CHANNEL_PHONE_CALL,
	audit.ChannelBackOfficeCall: v1.Channel_CHANNEL_BACK_OFFICE_CALL,
	audit.ChannelEmail:          v1.Channel_CHANNEL_EMAIL,
	audit.ChannelChat:           v1.Channel_CHANNEL_CHAT,
	audit.ChannelSocial:         v1.Channel_CHANNEL_SOCIAL,
	audit.ChannelDelivery:       v1.Channel_CHANNEL_DELIVERY,
}}

// ChannelToProto returns the wire form of a channel.
func ChannelToProto(c audit.Channel) v1.Channel { return channels.toProto(c) }

// ChannelFromProto returns the domain channel. Errors: EINVALID for
// CHANNEL_UNSPECIFIED or an unknown value.
func ChannelFromProto(c v1.Channel) (audit.Channel, error) { return channels.fromProto(c) }

// ChannelFilterFromProto returns the channel a filter asks for, "" (any)
// for CHANNEL_UNSPECIFIED. Errors: EINVALID for an unknown value.
func ChannelFilterFromProto(c v1.Channel) (audit.Channel, error) {
	return channels.filterFromProto(c)
}

var visitStates = enum[audit.VisitState, v1.VisitState]{what: "visit state", to: map[audit.VisitState]v1.VisitState{
	audit.VisitSubmitted:  v1.VisitState_VISIT_STATE_SUBMITTED,
	audit.VisitComplete:   v1.VisitState_VISIT_STATE_COMPLETE,
	audit.VisitInReview:   v1.VisitState_VISIT_STATE_IN_REVIEW,
	audit.VisitApproved:   v1.VisitState_VISIT_STATE_APPROVED,
	audit.VisitReturned:   v1.VisitState_VISIT_STATE_RETURNED,
	audit.VisitPublished:  v1.VisitState_VISIT_STATE_PUBLISHED,
	audit.VisitSuperseded: v1.VisitState_VISIT_STATE_SUPERSEDED,
}}

// VisitStateToProto returns the wire form of a visit state.
func VisitStateToProto(s audit.VisitState) v1.VisitState { return visitStates.toProto(s) }

// VisitStateFromProto returns the domain visit state. Errors: EINVALID for
// VISIT_STATE_UNSPECIFIED or an unknown value.
func VisitStateFromProto(s v1.VisitState) (audit.VisitState, error) {
	return visitStates.fromProto(s)
}

// VisitStateFilterFromProto returns the visit state a filter asks for, ""
// (any) for VISIT_STATE_UNSPECIFIED. Errors: EINVALID for an unknown value.
func VisitStateFilterFromProto(s v1.VisitState) (audit.VisitState, error) {
	return visitStates.filterFromProto(s)
}

var assignmentStates = enum[audit.AssignmentState, v1.AssignmentState]{what: "assignment state", to: map[audit.AssignmentState]v1.AssignmentState{
	audit.AssignmentOpen:      v1.AssignmentState_ASSIGNMENT_STATE_OPEN,
	audit.AssignmentAccepted:  v1.AssignmentState_ASSIGNMENT_STATE_ACCEPTED,
	audit.AssignmentCancelled: v1.AssignmentState_ASSIGNMENT_STATE_CANCELLED,
	audit.AssignmentExpired:   v1.AssignmentState_ASSIGNMENT_STATE_EXPIRED,
	audit.AssignmentDone:      v1.AssignmentState_ASSIGNMENT_STATE_DONE,
}}

// AssignmentStateToProto returns the wire form of an assignment state.
func AssignmentStateToProto(s audit.AssignmentState) v1.AssignmentState {
	return assignmentStates.toProto(s)
}

// AssignmentStateFromProto returns the domain assignment state. Errors:
// EINVALID for ASSIGNMENT_STATE_UNSPECIFIED or an unknown value.
func AssignmentStateFromProto(s v1.AssignmentState) (audit.AssignmentState, error) {
	return assignmentStates.fromProto(s)
}

// AssignmentStateFilterFromProto returns the assignment state a filter
// asks for, "" (any) for ASSIGNMENT_STATE_UNSPECIFIED. Errors: EINVALID for
// an unknown value.
func AssignmentStateFilterFromProto(s v1.AssignmentState) (audit.AssignmentState, error) {
	return assignmentStates.filterFromProto(s)
}

var versionStates = enum[audit.VersionState, v1.ChecklistVersionState]{what: "checklist version state", to: map[audit.VersionState]v1.ChecklistVersionState{
	audit.VersionDraft:     v1.ChecklistVersionState_CHECKLIST_VERSION_STATE_DRAFT,
	audit.VersionPublished: v1.ChecklistVersionState_CHECKLIST_VERSION_STATE_PUBLISHED,
	audit.VersionRetired:   v1.ChecklistVersionState_CHECKLIST_VERSION_STATE_RETIRED,
}}

// VersionStateToProto returns the wire form of a checklist version state.
func VersionStateToProto(s audit.VersionState) v1.ChecklistVersionState {
	return versionStates.toProto(s)
}

// VersionStateFromProto returns the domain checklist version state.
// Errors: EINVALID for CHECKLIST_VERSION_STATE_UNSPECIFIED or an unknown
// value.
func VersionStateFromProto(s v1.ChecklistVersionState) (audit.VersionState, error) {
	return versionStates.fromProto(s)
}

var removalReasons = enum[audit.RemovalReason, v1.RemovalReason]{what: "removal reason", to: map[audit.RemovalReason]v1.RemovalReason{
	audit.RemovalCancelled:  v1.RemovalReason_REMOVAL_REASON_CANCELLED,
	audit.RemovalReassigned: v1.RemovalReason_REMOVAL_REASON_REASSIGNED,
	audit.RemovalExpired:    v1.RemovalReason_REMOVAL_REASON_EXPIRED,
}}

// RemovalReasonToProto returns the wire form of a removal reason.
func RemovalReasonToProto(r audit.RemovalReason) v1.RemovalReason { return removalReasons.toProto(r) }

// RemovalReasonFromProto returns why a tombstone removes its assignment:
// reason_code, or, from a server that predates it (reason_code not set),
// the reason as text, which must then be one of the known reasons too.
// Errors: EINVALID for an unknown reason_code, or no known reason at all.
func RemovalReasonFromProto(r *v1.AssignmentRemoval) (audit.RemovalReason, error) {
	if c := r.GetReasonCode(); c != v1.RemovalReason_REMOVAL_REASON_UNSPECIFIED {
		return removalReasons.fromProto(c)
	}
	text := audit.RemovalReason(r.GetReason())
	if _, ok := removalReasons.to[text]; ok {
		return text, nil
	}
	return "", audit.Errorf(audit.EINVALID, "removal of assignment %s: unknown removal reason %q", r.GetAssignmentId(), r.GetReason())
}
