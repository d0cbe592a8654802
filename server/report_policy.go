package server

import (
	"context"
	"strings"

	"connectrpc.com/connect"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/storage"
)

// The policy editor's and the base pay table's procedures of
// ReportService.

// GetPolicy returns one version of a policy and the list of its versions.
// Errors: EINVALID, ENOTFOUND.
func (r *reportService) GetPolicy(ctx context.Context, req *connect.Request[v1.GetPolicyRequest]) (*connect.Response[v1.GetPolicyResponse], error) {
	id := strings.TrimSpace(req.Msg.GetPolicyId())
	if id == "" {
		return nil, audit.Errorf(audit.EINVALID, "policy_id is required")
	}
	if req.Msg.GetVersion() < 0 {
		return nil, audit.Errorf(audit.EINVALID, "version %d is negative; 0 means the latest", req.Msg.GetVersion())
	}
	p, err := r.s.st.BonusPolicies().Find(ctx, id, int(req.Msg.GetVersion()))
	if err != nil {
		return nil, err
	}
	versions, err := r.s.st.BonusPolicies().Versions(ctx, id)
	if err != nil {
		return nil, err
	}
	pp, err := policyToProto(p)
	if err != nil {
		return nil, err
	}
	resp := &v1.GetPolicyResponse{Policy: pp}
	for _, v := range versions {
		resp.Versions = append(resp.Versions, int32(v))
	}
	return connect.NewResponse(resp), nil
}

// DiffPolicies lists the differences between two versions of a policy.
// Errors: EINVALID, ENOTFOUND.
func (r *reportService) DiffPolicies(ctx context.Context, req *connect.Request[v1.DiffPoliciesRequest]) (*connect.Response[v1.DiffPoliciesResponse], error) {
	m := req.Msg
	id := strings.TrimSpace(m.GetPolicyId())
	switch {
	case id == "":
		return nil, audit.Errorf(audit.EINVALID, "policy_id is required")
	case m.GetFromVersion() < 1:
		return nil, audit.Errorf(audit.EINVALID, "from_version %d: want a version, 1 or more", m.GetFromVersion())
	case m.GetToVersion() < 0:
		return nil, audit.Errorf(audit.EINVALID, "to_version %d is negative; 0 means the latest", m.GetToVersion())
	}
	from, err := r.s.st.BonusPolicies().Find(ctx, id, int(m.GetFromVersion()))
	if err != nil {
		return nil, err
	}
	to, err := r.s.st.BonusPolicies().Find(ctx, id, int(m.GetToVersion()))
	if err != nil {
		return nil, err
	}
	changes, err := reports.DiffPolicies(from.Policy, to.Policy)
	if err != nil {
		return nil, err
	}
	resp := &v1.DiffPoliciesResponse{}
	if resp.From, err = policyToProto(from); err != nil {
		return nil, err
	}
	if resp.To, err = policyToProto(to); err != nil {
		return nil, err
	}
	for _, c := range changes {
		resp.Changes = append(resp.Changes, &v1.PolicyChange{Path: c.Path, OldValue: c.Old, NewValue: c.New, Text: c.String()})
	}
	return connect.NewResponse(resp), nil
}

// policyBody checks a policy JSON's presence and size. Errors: EINVALID.
func policyBody(body string) error {
	if strings.TrimSpace(body) == "" {
		return audit.Errorf(audit.EINVALID, "policy_json is required: the policy as JSON")
	}
	if len(body) > maxPolicyBytes {
		return audit.Errorf(audit.EINVALID, "policy_json is %d bytes; at most %d", len(body), maxPolicyBytes)
	}
	return nil
}

// ValidatePolicy answers every problem of a policy without storing it.
// Errors: EINVALID only for a missing or oversized body.
func (r *reportService) ValidatePolicy(ctx context.Context, req *connect.Request[v1.ValidatePolicyRequest]) (*connect.Response[v1.ValidatePolicyResponse], error) {
	body := req.Msg.GetPolicyJson()
	if err := policyBody(body); err != nil {
		return nil, err
	}
	pol, err := app.ParsePolicy([]byte(body))
	if err != nil {
		return connect.NewResponse(&v1.ValidatePolicyResponse{Problems: []string{audit.ErrorMessage(err)}}), nil
	}
	problems, unchanged, next, err := r.s.app.CheckPolicy(ctx, pol)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.ValidatePolicyResponse{Problems: problems, Unchanged: unchanged, NextVersion: int32(next)}), nil
}

// PreviewBonus computes a policy over a month without storing a run.
// Errors: EINVALID, ENOTFOUND.
func (r *reportService) PreviewBonus(ctx context.Context, req *connect.Request[v1.PreviewBonusRequest]) (*connect.Response[v1.PreviewBonusResponse], error) {
	m := req.Msg
	var pol reports.Policy
	switch {
	case m.GetPolicyJson() != "":
		if err := policyBody(m.GetPolicyJson()); err != nil {
			return nil, err
		}
		var err error
		if pol, err = app.ParsePolicy([]byte(m.GetPolicyJson())); err != nil {
			return nil, err
		}
	case strings.TrimSpace(m.GetPolicyId()) != "":
		if m.GetPolicyVersion() < 0 {
			return nil, audit.Errorf(audit.EINVALID, "policy_version %d is negative; 0 means the latest", m.GetPolicyVersion())
		}
		stored, err := r.s.st.BonusPolicies().Find(ctx, m.GetPolicyId(), int(m.GetPolicyVersion()))
		if err != nil {
			return nil, err
		}
		pol = stored.Policy
	default:
		return nil, audit.Errorf(audit.EINVALID, "give policy_json (the editor's policy) or policy_id")
	}
	run, missing, err := r.s.app.PreviewBonus(ctx, pol, m.GetPeriod())
	if err != nil {
		return nil, err
	}
	preview := &storage.BonusRun{PolicyID: run.Policy.ID, PolicyVersion: run.Policy.Version, Period: m.GetPeriod(),
		InputsHash: run.InputsHash, Run: run, MissingBasePay: missing}
	pr, err := r.s.runProto(ctx, preview, true, false)
	if err != nil {
		return nil, err
	}
	pr.Period = run.Period.Key()
	return connect.NewResponse(&v1.PreviewBonusResponse{Run: pr}), nil
}

// ListBasePay returns every employee's pay of a kind in force in a month.
// Errors: EINVALID.
func (r *reportService) ListBasePay(ctx context.Context, req *connect.Request[v1.ListBasePayRequest]) (*connect.Response[v1.ListBasePayResponse], error) {
	kind, err := payKind(req.Msg.GetKind())
	if err != nil {
		return nil, err
	}
	entries, err := r.s.app.ListBasePay(ctx, req.Msg.GetMonth(), kind)
	if err != nil {
		return nil, err
	}
	resp := &v1.ListBasePayResponse{}
	for _, e := range entries {
		pe := &v1.BasePayEntry{
			StaffId: e.StaffID, EmployeeNumber: e.EmployeeNumber, Name: e.Name, Position: e.Position, Department: e.Department,
			StoreCode: e.StoreCode, StoreName: e.StoreName, Kind: req.Msg.GetKind(), Set: e.Set,
		}
		if pe.Kind == v1.PayKind_PAY_KIND_UNSPECIFIED {
			pe.Kind = v1.PayKind_PAY_KIND_BASE_PAY
		}
		if e.Set {
			pe.AmountMinor, pe.EffectiveMonth, pe.Source, pe.UpdatedBy = e.AmountMinor, e.EffectiveMonth, e.Source, e.UpdatedBy
			pe.UpdateTime = timestamp(e.UpdatedAt)
		}
		resp.Entries = append(resp.Entries, pe)
	}
	return connect.NewResponse(resp), nil
}
