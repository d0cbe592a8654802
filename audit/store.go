package audit

import "time"

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
	switch {
	case s.Code == "":
		return Errorf(EINVALID, "store: code is required")
	case s.Name == "":
		return Errorf(EINVALID, "store %s: name is required", s.Code)
	case s.Latitude < -90 || s.Latitude > 90:
		return Errorf(EINVALID, "store %s: latitude %v is outside -90..90", s.Code, s.Latitude)
	case s.Longitude < -180 || s.Longitude > 180:
		return Errorf(EINVALID, "store %s: longitude %v is outside -180..180", s.Code, s.Longitude)
	case s.GeofenceMeters < 0:
		return Errorf(EINVALID, "store %s: geofence radius must not be negative", s.Code)
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
	TimeZone  string // IANA name
	Locale    string // BCP 47 tag
	Currency  string // ISO 4217 code
	UpdatedAt time.Time
	UpdatedBy string
}

// Validate returns EINVALID when the staff member cannot be stored.
func (s *Staff) Validate() error {
	switch {
	case s.EmployeeNumber == "":
		return Errorf(EINVALID, "staff: employee number is required")
	case s.Name == "":
		return Errorf(EINVALID, "staff %s: name is required", s.EmployeeNumber)
	}
	return nil
}
