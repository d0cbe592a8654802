package protocol

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/shopscore/shopscore/audit"
	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
)

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func tm(t *timestamppb.Timestamp) time.Time {
	if t == nil || t.CheckValid() != nil {
		return time.Time{}
	}
	return t.AsTime().UTC()
}

func pointToProto(p *audit.GeoPoint) *v1.GeoPoint {
	if p == nil {
		return nil
	}
	return &v1.GeoPoint{Latitude: p.Latitude, Longitude: p.Longitude, AccuracyMeters: p.AccuracyMeters, Time: ts(p.Time)}
}

func pointFromProto(p *v1.GeoPoint) *audit.GeoPoint {
	if p == nil {
		return nil
	}
	return &audit.GeoPoint{Latitude: p.GetLatitude(), Longitude: p.GetLongitude(), AccuracyMeters: p.GetAccuracyMeters(), Time: tm(p.GetTime())}
}

// AnswerToProto returns the wire form of an answer.
func AnswerToProto(a audit.Answer) *v1.Answer {
	return &v1.Answer{
		QuestionId: a.QuestionID, Na: a.NA, BoolValue: a.Bool, NumberValue: a.Number, DurationMs: a.DurationMS,
		Choices: a.Choices, Text: a.Text, Note: a.Note, PhotoHashes: a.PhotoHashes,
	}
}

// AnswerFromProto returns the domain form of an answer.
func AnswerFromProto(a *v1.Answer) audit.Answer {
	return audit.Answer{
		QuestionID: a.GetQuestionId(), NA: a.GetNa(), Bool: a.BoolValue, Number: a.NumberValue, DurationMS: a.DurationMs,
		Choices: a.GetChoices(), Text: a.GetText(), Note: a.GetNote(), PhotoHashes: a.GetPhotoHashes(),
	}
}

// VisitToProto returns the wire form of a visit (the shopper is not sent:
// the server takes him from the caller's token).
func VisitToProto(v *audit.Visit) *v1.Visit {
	p := &v1.Visit{
		Id: v.ID, AssignmentId: v.AssignmentID, StoreId: v.StoreID, ChecklistId: v.ChecklistID,
		ChecklistVersion: int32(v.ChecklistVersion), ContentHash: v.ContentHash, Channel: ChannelToProto(v.Channel),
		StartTime: ts(v.StartedAt), FinishTime: ts(v.FinishedAt), StaffId: v.StaffID, StaffDescription: v.StaffDescription,
		CheckIn: pointToProto(v.CheckIn), CheckOut: pointToProto(v.CheckOut), Notes: v.Notes, CorrectsVisitId: v.CorrectsVisitID,
	}
	for _, a := range v.Answers {
		p.Answers = append(p.Answers, AnswerToProto(a))
	}
	for _, ph := range v.Photos {
		p.Photos = append(p.Photos, &v1.PhotoRef{
			QuestionId: ph.QuestionID, Index: int32(ph.Index), Sha256: ph.SHA256, SizeBytes: ph.Size,
			ContentType: ph.ContentType, CaptureTime: ts(ph.CapturedAt), ExifTime: ts(ph.ExifTime), ExifLocation: pointToProto(ph.ExifPoint),
		})
	}
	return p
}

// VisitFromProto returns the domain form of a visit recorded by shopper.
// It does not validate: call Validate and Admit on the result.
func VisitFromProto(p *v1.Visit, shopperID string) *audit.Visit {
	v := &audit.Visit{
		ID: p.GetId(), AssignmentID: p.GetAssignmentId(), StoreID: p.GetStoreId(), ShopperID: shopperID,
		ChecklistID: p.GetChecklistId(), ChecklistVersion: int(p.GetChecklistVersion()), ContentHash: p.GetContentHash(),
		Channel: visitChannel(p.GetChannel()), StartedAt: tm(p.GetStartTime()), FinishedAt: tm(p.GetFinishTime()),
		StaffID: p.GetStaffId(), StaffDescription: p.GetStaffDescription(), CheckIn: pointFromProto(p.GetCheckIn()),
		CheckOut: pointFromProto(p.GetCheckOut()), Notes: p.GetNotes(), CorrectsVisitID: p.GetCorrectsVisitId(),
	}
	for _, a := range p.GetAnswers() {
		v.Answers = append(v.Answers, AnswerFromProto(a))
	}
	for _, ph := range p.GetPhotos() {
		v.Photos = append(v.Photos, audit.Photo{
			QuestionID: ph.GetQuestionId(), Index: int(ph.GetIndex()), SHA256: ph.GetSha256(), Size: ph.GetSizeBytes(),
			ContentType: ph.GetContentType(), CapturedAt: tm(ph.GetCaptureTime()), ExifTime: tm(ph.GetExifTime()),
			ExifPoint: pointFromProto(ph.GetExifLocation()),
		})
	}
	return v
}

// visitChannel is the channel of a pushed visit: an unknown or unset one
// becomes "", which audit.Visit.Validate refuses as the visit's own
// rejection (the digest of the item is still needed to answer it).
func visitChannel(c v1.Channel) audit.Channel {
	ch, _ := ChannelFromProto(c)
	return ch
}

// VisitDigest is the hex SHA-256 of a visit's content, as both ends see it
// after VisitFromProto. The same visit ID with the same digest is a replay;
// with another digest it is different content (AlreadyExists). It does not
// depend on protobuf encoding details, only on the domain fields.
func VisitDigest(v *audit.Visit) string {
	b, err := json.Marshal(v) // fixed field order, no maps: deterministic
	if err != nil {
		// Only NaN or infinite numbers fail to encode; they make their own,
		// still deterministic, digest input.
		b = []byte(err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
