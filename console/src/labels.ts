// Catalog keys for the API's enums and flag codes.
import { VisitState } from "./gen/shopscore/v1/sync_pb";
import { AssignmentState } from "./gen/shopscore/v1/assignment_pb";
import { Channel, ChecklistVersionState, QuestionType } from "./gen/shopscore/v1/checklist_pb";
import type { MessageKey } from "./i18n/en";

export const visitStateKey: Record<VisitState, MessageKey> = {
  [VisitState.UNSPECIFIED]: "visitState.any",
  [VisitState.SUBMITTED]: "visitState.submitted",
  [VisitState.COMPLETE]: "visitState.complete",
  [VisitState.IN_REVIEW]: "visitState.inReview",
  [VisitState.APPROVED]: "visitState.approved",
  [VisitState.RETURNED]: "visitState.returned",
  [VisitState.PUBLISHED]: "visitState.published",
  [VisitState.SUPERSEDED]: "visitState.superseded",
};

export const visitStates = [
  VisitState.COMPLETE,
  VisitState.IN_REVIEW,
  VisitState.SUBMITTED,
  VisitState.RETURNED,
  VisitState.APPROVED,
  VisitState.PUBLISHED,
  VisitState.SUPERSEDED,
];

export const visitStateTone: Record<VisitState, string> = {
  [VisitState.UNSPECIFIED]: "",
  [VisitState.SUBMITTED]: "wait",
  [VisitState.COMPLETE]: "todo",
  [VisitState.IN_REVIEW]: "todo",
  [VisitState.APPROVED]: "ok",
  [VisitState.RETURNED]: "warn",
  [VisitState.PUBLISHED]: "ok",
  [VisitState.SUPERSEDED]: "",
};

export const assignmentStateKey: Record<AssignmentState, MessageKey> = {
  [AssignmentState.UNSPECIFIED]: "assignmentState.any",
  [AssignmentState.OPEN]: "assignmentState.open",
  [AssignmentState.ACCEPTED]: "assignmentState.accepted",
  [AssignmentState.CANCELLED]: "assignmentState.cancelled",
  [AssignmentState.EXPIRED]: "assignmentState.expired",
  [AssignmentState.DONE]: "assignmentState.done",
};

export const versionStateKey: Record<ChecklistVersionState, MessageKey> = {
  [ChecklistVersionState.UNSPECIFIED]: "versionState.any",
  [ChecklistVersionState.DRAFT]: "versionState.draft",
  [ChecklistVersionState.PUBLISHED]: "versionState.published",
  [ChecklistVersionState.RETIRED]: "versionState.retired",
};

export const channelKey: Record<Channel, MessageKey> = {
  [Channel.UNSPECIFIED]: "channel.unspecified",
  [Channel.STORE_VISIT]: "channel.storeVisit",
  [Channel.PHONE_CALL]: "channel.phoneCall",
  [Channel.BACK_OFFICE_CALL]: "channel.backOfficeCall",
  [Channel.EMAIL]: "channel.email",
  [Channel.CHAT]: "channel.chat",
  [Channel.SOCIAL]: "channel.social",
  [Channel.DELIVERY]: "channel.delivery",
};

/** Admission flags (VisitSummary.flags). */
export const visitFlagKey: Record<string, MessageKey> = {
  unplanned: "flag.unplanned",
  assignment_cancelled: "flag.assignmentCancelled",
  assignment_expired: "flag.assignmentExpired",
  assignment_done: "flag.assignmentDone",
  assignment_reassigned: "flag.assignmentReassigned",
  outside_window: "flag.outsideWindow",
  version_retired: "flag.versionRetired",
  device_clock_skew: "flag.clockSkew",
  photo_reused: "flag.photoReused",
  correction: "flag.correction",
};

/** Proof-of-visit flags (VisitSummary.proof_flags[].code). */
export const proofFlagKey: Record<string, MessageKey> = {
  checkin_outside_geofence: "proof.checkinOutsideGeofence",
  checkout_outside_geofence: "proof.checkoutOutsideGeofence",
  exif_outside_geofence: "proof.exifOutsideGeofence",
  outside_assignment_window: "proof.outsideAssignmentWindow",
  device_clock_skew: "proof.deviceClockSkew",
  photo_reused: "proof.photoReused",
  timer_implausible: "proof.timerImplausible",
  exif_time_far: "proof.exifTimeFar",
};

export const questionTypeKey: Record<QuestionType, MessageKey> = {
  [QuestionType.UNSPECIFIED]: "qtype.text",
  [QuestionType.YES_NO]: "qtype.yesNo",
  [QuestionType.SCALE]: "qtype.scale",
  [QuestionType.NUMERIC]: "qtype.numeric",
  [QuestionType.TIMER]: "qtype.timer",
  [QuestionType.SINGLE_CHOICE]: "qtype.singleChoice",
  [QuestionType.MULTI_CHOICE]: "qtype.multiChoice",
  [QuestionType.TEXT]: "qtype.text",
  [QuestionType.PHOTO]: "qtype.photo",
  [QuestionType.NPS]: "qtype.nps",
};

/** Short names of the proof-of-visit flags, for lists. */
export const proofShortKey: Record<string, MessageKey> = {
  checkin_outside_geofence: "proofShort.checkinOutsideGeofence",
  checkout_outside_geofence: "proofShort.checkoutOutsideGeofence",
  exif_outside_geofence: "proofShort.exifOutsideGeofence",
  outside_assignment_window: "proofShort.outsideAssignmentWindow",
  device_clock_skew: "proofShort.deviceClockSkew",
  photo_reused: "proofShort.photoReused",
  timer_implausible: "proofShort.timerImplausible",
  exif_time_far: "proofShort.exifTimeFar",
};
