package audit

import (
	"regexp"
	"time"
)

// Department is where a staff member works. Back-office departments are
// audited through calls and e-mails as well as the front line.
type Department string

// The departments the demo pack and the bonus policies know; others may be
// used freely.
const (
	DeptSales      Department = "sales"
	DeptLogistics  Department = "logistics"
	DeptAccounting Department = "accounting"
	DeptLegal      Department = "legal"
	DeptSecretary  Department = "secretariat"
	DeptCallCentre Department = "call_centre"
)

// Store is a service point: a shop, a call centre, a depot.
type Store struct {
	ID             string
	Code           string // unique, human readable ("MSK-01")
	Name           string
	Address        string
	Region         string
	Latitude       float64
	Longitude      float64
	GeofenceMeters float64 // a check-in farther than this from the store is flagged
	ManagerIDs     []string
	CreatedAt      time.Time
	// Read-only: when the store was closed (zero while open), and the
	// managers' names in the order of ManagerIDs.
	DeactivatedAt time.Time
	ManagerNames  []string
}

// Validate returns EINVALID when the store cannot be stored.
func (s *Store) Validate() error {
	if err := checkLengths("store", text{"code", s.Code, MaxCodeLen}, text{"name", s.Name, MaxNameLen},
		text{"address", s.Address, MaxTextLen}, text{"region", s.Region, MaxNameLen}); err != nil {
		return err
	}
	switch {
	case s.Code == "":
		return Errorf(EINVALID, "store: code is required")
	case s.Name == "":
		return Errorf(EINVALID, "store %s: name is required", s.Code)
	case !InRange(s.Latitude, -90, 90):
		return Errorf(EINVALID, "store %s: latitude %v is outside -90..90", s.Code, s.Latitude)
	case !InRange(s.Longitude, -180, 180):
		return Errorf(EINVALID, "store %s: longitude %v is outside -180..180", s.Code, s.Longitude)
	case !InRange(s.GeofenceMeters, 0, MaxGeofenceMeters):
		return Errorf(EINVALID, "store %s: geofence radius %v m is outside 0..%d", s.Code, s.GeofenceMeters, MaxGeofenceMeters)
	}
	return nil
}

// Staff is an employee whose service is audited and whose bonus may depend
// on the scores.
type Staff struct {
	ID             string
	EmployeeNumber string // unique, from HR's systems
	Name           string
	Position       string // "cashier", "driver", "accountant"
	Department     Department
	BackOffice     bool
	StoreID        string // empty for staff not tied to a store
	CreatedAt      time.Time
	// Read-only: the store's code and name, when the employee left (zero
	// while employed), and the first day at StoreID ("" if always).
	StoreCode, StoreName string
	DeactivatedAt        time.Time
	StoreSince           string
}

// StaffTransfer moves an employee to another store from a day on.
type StaffTransfer struct {
	ID, StaffID                string
	FromStoreID, ToStoreID     string
	FromStoreCode, ToStoreCode string
	FromStoreName, ToStoreName string
	EffectiveDate              string // YYYY-MM-DD, organisation time zone
	Applied                    bool
	CreatedBy, CreatedByName   string
	CreatedAt                  time.Time
}

// OrgSettings are the organisation's settings.
type OrgSettings struct {
	TimeZone string // IANA name
	Locale   string // BCP 47 tag
	Currency string // ISO 4217 code
	// AppealWindowDays is how many days after a visit's approval an
	// appeal against it is taken (AppealDeadline); 0 means
	// DefaultAppealWindowDays.
	AppealWindowDays int
	// ActionDaysCritical and ActionDaysMajor are the days a corrective
	// action of each severity has to be done (ActionDueDate); 0 means
	// DefaultActionDaysCritical and DefaultActionDaysMajor.
	ActionDaysCritical, ActionDaysMajor int
	// ReviewWaitDays is how many days a visit may wait for review before
	// its store's managers are reminded by e-mail (ReviewWait); 0 means
	// DefaultReviewWaitDays.
	ReviewWaitDays int
	UpdatedAt      time.Time
	UpdatedBy      string
}

var (
	localeTag    = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
	currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)
)

// Validate checks settings before they are stored. Errors: EINVALID
// naming the field.
func (s OrgSettings) Validate() error {
	if _, err := time.LoadLocation(s.TimeZone); err != nil || s.TimeZone == "" || s.TimeZone == "Local" {
		return Errorf(EINVALID, "time_zone: %q is not an IANA time zone name (such as Europe/Moscow)", s.TimeZone)
	}
	if !localeTag.MatchString(s.Locale) {
		return Errorf(EINVALID, "locale: %q is not a language tag (such as ru-RU or en-GB)", s.Locale)
	}
	if !currencyCode.MatchString(s.Currency) {
		return Errorf(EINVALID, "currency: %q is not an ISO 4217 code (such as RUB or EUR)", s.Currency)
	}
	if s.AppealWindowDays < 0 || s.AppealWindowDays > MaxAppealWindowDays {
		return Errorf(EINVALID, "appeal_window_days: %d; want 1 to %d days after a visit's approval", s.AppealWindowDays, MaxAppealWindowDays)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"action_days_critical", s.ActionDaysCritical}, {"action_days_major", s.ActionDaysMajor}} {
		if f.v < 0 || f.v > MaxActionDays {
			return Errorf(EINVALID, "%s: %d; want 1 to %d days to fix a corrective action", f.name, f.v, MaxActionDays)
		}
	}
	if s.ReviewWaitDays < 0 || s.ReviewWaitDays > MaxReviewWaitDays {
		return Errorf(EINVALID, "review_wait_days: %d; want 1 to %d days a visit may wait for review before its managers are reminded", s.ReviewWaitDays, MaxReviewWaitDays)
	}
	return nil
}

// The bounds of OrgSettings.ReviewWaitDays.
const (
	DefaultReviewWaitDays = 3
	MaxReviewWaitDays     = 60
)

// ReviewWait returns the days a visit may wait for review before its
// managers are reminded.
func (s OrgSettings) ReviewWait() int {
	if s.ReviewWaitDays == 0 {
		return DefaultReviewWaitDays
	}
	return s.ReviewWaitDays
}

// ActionDays returns the days an action of severity sev has to be done.
func (s OrgSettings) ActionDays(sev Severity) int {
	if sev == SeverityCritical {
		if s.ActionDaysCritical == 0 {
			return DefaultActionDaysCritical
		}
		return s.ActionDaysCritical
	}
	if s.ActionDaysMajor == 0 {
		return DefaultActionDaysMajor
	}
	return s.ActionDaysMajor
}

// AppealWindow returns the organisation's appeal window in days.
func (s OrgSettings) AppealWindow() int {
	if s.AppealWindowDays == 0 {
		return DefaultAppealWindowDays
	}
	return s.AppealWindowDays
}

// Validate returns EINVALID when the staff member cannot be stored.
func (s *Staff) Validate() error {
	if err := checkLengths("staff", text{"employee number", s.EmployeeNumber, MaxCodeLen},
		text{"name", s.Name, MaxNameLen}, text{"position", s.Position, MaxNameLen},
		text{"department", string(s.Department), MaxNameLen}, text{"store", s.StoreID, MaxIDLen}); err != nil {
		return err
	}
	switch {
	case s.EmployeeNumber == "":
		return Errorf(EINVALID, "staff: employee number is required")
	case s.Name == "":
		return Errorf(EINVALID, "staff %s: name is required", s.EmployeeNumber)
	}
	return nil
}
