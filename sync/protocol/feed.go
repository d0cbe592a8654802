package protocol

import (
	"encoding/json"

	"github.com/shopscore/shopscore/audit"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
)

// The conversions of what a pull carries (docs/DESIGN.md §3 rule 6): the
// server sends with the ToProto functions, the field client reads with the
// FromProto ones, so both read every enum through the same table.

// ReceiptToProto returns the wire form of a visit receipt; nil stays nil.
func ReceiptToProto(r *audit.VisitReceipt) *v1.VisitReceipt {
	if r == nil {
		return nil
	}
	out := &v1.VisitReceipt{
		VisitId: r.VisitID, State: VisitStateToProto(r.State), ScorePercent: r.ScorePercent, ReceiveTime: ts(r.ReceivedAt),
	}
	for _, m := range r.Missing {
		out.MissingPhotos = append(out.MissingPhotos, &v1.MissingPhoto{QuestionId: m.QuestionID, Index: int32(m.Index), Sha256: m.SHA256})
	}
	for _, f := range r.Flags {
		out.Flags = append(out.Flags, string(f))
	}
	for _, c := range r.Comments {
		out.Comments = append(out.Comments, &v1.ReviewComment{QuestionId: c.QuestionID, Text: c.Text})
	}
	return out
}

// ReceiptFromProto returns the domain form of a visit receipt (without
// the shopper, whom the wire does not name). Errors: EINVALID for a
// receipt without a visit id or with a state this side does not know.
func ReceiptFromProto(p *v1.VisitReceipt) (*audit.VisitReceipt, error) {
	if p.GetVisitId() == "" {
		return nil, audit.Errorf(audit.EINVALID, "visit receipt without a visit id")
	}
	state, err := VisitStateFromProto(p.GetState())
	if err != nil {
		return nil, audit.Errorf(audit.EINVALID, "receipt of visit %s: %s", p.GetVisitId(), audit.ErrorMessage(err))
	}
	r := &audit.VisitReceipt{VisitID: p.GetVisitId(), State: state, ScorePercent: p.ScorePercent, ReceivedAt: tm(p.GetReceiveTime())}
	for _, m := range p.GetMissingPhotos() {
		r.Missing = append(r.Missing, audit.MissingPhoto{QuestionID: m.GetQuestionId(), Index: int(m.GetIndex()), SHA256: m.GetSha256()})
	}
	for _, f := range p.GetFlags() {
		r.Flags = append(r.Flags, audit.VisitFlag(f))
	}
	for _, c := range p.GetComments() {
		r.Comments = append(r.Comments, audit.ReviewComment{QuestionID: c.GetQuestionId(), Text: c.GetText()})
	}
	return r, nil
}

// AssignmentToProto returns the wire form of an assignment.
func AssignmentToProto(a *audit.Assignment) *v1.Assignment {
	return &v1.Assignment{
		Id: a.ID, StoreId: a.StoreID, ChecklistId: a.ChecklistID, ChecklistVersion: int32(a.ChecklistVersion),
		Channel: ChannelToProto(a.Channel), WindowStartTime: ts(a.WindowStart), WindowEndTime: ts(a.WindowEnd),
		ShopperId: a.ShopperID, State: AssignmentStateToProto(a.State), CancelReason: a.CancelReason,
		CreateTime: ts(a.CreatedAt), UpdateTime: ts(a.UpdatedAt),
	}
}

// AssignmentFromProto returns the domain form of an assignment. Errors:
// EINVALID for an assignment without an id, or with a channel or state
// this side does not know.
func AssignmentFromProto(p *v1.Assignment) (*audit.Assignment, error) {
	if p.GetId() == "" {
		return nil, audit.Errorf(audit.EINVALID, "assignment without an id")
	}
	a := &audit.Assignment{
		ID: p.GetId(), StoreID: p.GetStoreId(), ChecklistID: p.GetChecklistId(), ChecklistVersion: int(p.GetChecklistVersion()),
		WindowStart: tm(p.GetWindowStartTime()), WindowEnd: tm(p.GetWindowEndTime()), ShopperID: p.GetShopperId(),
		CancelReason: p.GetCancelReason(), CreatedAt: tm(p.GetCreateTime()), UpdatedAt: tm(p.GetUpdateTime()),
	}
	var err error
	if a.Channel, err = ChannelFromProto(p.GetChannel()); err != nil {
		return nil, audit.Errorf(audit.EINVALID, "assignment %s: %s", a.ID, audit.ErrorMessage(err))
	}
	if a.State, err = AssignmentStateFromProto(p.GetState()); err != nil {
		return nil, audit.Errorf(audit.EINVALID, "assignment %s: %s", a.ID, audit.ErrorMessage(err))
	}
	return a, nil
}

// VersionToProto returns the wire form of a checklist version, with its
// content (canonical JSON) when withContent.
func VersionToProto(v *audit.ChecklistVersion, withContent bool) (*v1.ChecklistVersion, error) {
	p := &v1.ChecklistVersion{
		ChecklistId: v.ChecklistID, Version: int32(v.Version), Name: v.Content.Name,
		Channel: ChannelToProto(v.Content.Channel), State: VersionStateToProto(v.State),
		ContentHash: v.ContentHash, PublishTime: ts(v.PublishedAt),
	}
	for _, s := range v.Content.Sections {
		p.QuestionCount += int32(len(s.Questions))
	}
	if withContent {
		b, err := v.Content.CanonicalJSON()
		if err != nil {
			return nil, err
		}
		p.Content = b
	}
	return p, nil
}

// VersionFromProto returns the domain form of a checklist version sent
// with its content, as a pull sends it. It does not check the content
// against its hash: call Verify on the result. Errors: EINVALID for a
// state this side does not know or content that is not a checklist.
func VersionFromProto(p *v1.ChecklistVersion) (*audit.ChecklistVersion, error) {
	v := &audit.ChecklistVersion{
		ChecklistID: p.GetChecklistId(), Version: int(p.GetVersion()), ContentHash: p.GetContentHash(), PublishedAt: tm(p.GetPublishTime()),
	}
	var err error
	if v.State, err = VersionStateFromProto(p.GetState()); err != nil {
		return nil, audit.Errorf(audit.EINVALID, "checklist %s version %d: %s", v.ChecklistID, v.Version, audit.ErrorMessage(err))
	}
	if err := json.Unmarshal(p.GetContent(), &v.Content); err != nil {
		return nil, audit.Errorf(audit.EINVALID, "checklist %s version %d: content is not a checklist: %v", v.ChecklistID, v.Version, err)
	}
	return v, nil
}

// StoreToProto returns the wire form of a store.
func StoreToProto(s *audit.Store) *v1.Store {
	return &v1.Store{
		Id: s.ID, Code: s.Code, Name: s.Name, Address: s.Address, Region: s.Region,
		Latitude: s.Latitude, Longitude: s.Longitude, GeofenceMeters: s.GeofenceMeters,
		ManagerIds: s.ManagerIDs, CreateTime: ts(s.CreatedAt),
		Deactivated: !s.DeactivatedAt.IsZero(), DeactivateTime: ts(s.DeactivatedAt), ManagerNames: s.ManagerNames,
	}
}

// StaffToProto returns the wire form of a staff member.
func StaffToProto(s *audit.Staff) *v1.Staff {
	return &v1.Staff{
		Id: s.ID, EmployeeNumber: s.EmployeeNumber, Name: s.Name, Position: s.Position,
		Department: string(s.Department), BackOffice: s.BackOffice, StoreId: s.StoreID, CreateTime: ts(s.CreatedAt),
		StoreCode: s.StoreCode, StoreName: s.StoreName, Deactivated: !s.DeactivatedAt.IsZero(),
		DeactivateTime: ts(s.DeactivatedAt), StoreSinceDate: s.StoreSince,
	}
}

// AssignmentUpsertToProto returns the change that gives a shopper an
// assignment with what he needs to carry it out offline: its store, the
// store's staff and the checklist version with content.
func AssignmentUpsertToProto(a *audit.Assignment, store *audit.Store, staff []*audit.Staff, version *audit.ChecklistVersion) (*v1.Change, error) {
	cv, err := VersionToProto(version, true)
	if err != nil {
		return nil, err
	}
	up := &v1.AssignmentUpsert{Assignment: AssignmentToProto(a), Store: StoreToProto(store), Checklist: cv}
	for _, st := range staff {
		up.Staff = append(up.Staff, StaffToProto(st))
	}
	return &v1.Change{Kind: &v1.Change_AssignmentUpsert{AssignmentUpsert: up}}, nil
}

// AssignmentRemovalToProto returns the tombstone of an assignment that
// left the shopper for reason.
func AssignmentRemovalToProto(assignmentID string, reason audit.RemovalReason) *v1.Change {
	return &v1.Change{Kind: &v1.Change_AssignmentRemoval{AssignmentRemoval: &v1.AssignmentRemoval{
		AssignmentId: assignmentID, Reason: string(reason), ReasonCode: RemovalReasonToProto(reason),
	}}}
}

// ChecklistUpsertToProto returns the change that offers a checklist
// version, with content, for unplanned visits at stores.
func ChecklistUpsertToProto(version *audit.ChecklistVersion, stores []*audit.Store) (*v1.Change, error) {
	cv, err := VersionToProto(version, true)
	if err != nil {
		return nil, err
	}
	up := &v1.ChecklistUpsert{Checklist: cv}
	for _, st := range stores {
		up.Stores = append(up.Stores, StoreToProto(st))
	}
	return &v1.Change{Kind: &v1.Change_ChecklistUpsert{ChecklistUpsert: up}}, nil
}

// ReceiptChangeToProto returns the change that carries a visit receipt.
func ReceiptChangeToProto(r *audit.VisitReceipt) *v1.Change {
	return &v1.Change{Kind: &v1.Change_VisitReceipt{VisitReceipt: ReceiptToProto(r)}}
}
