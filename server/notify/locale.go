package notify

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Reader is whom a message is written for: his language, the
// organisation's time zone, and where the console is, for links.
type Reader struct {
	// Locale is the recipient's language as a BCP 47 tag ("ru", "ru-RU",
	// "en-GB"); Russian for ru, English for anything else. The caller
	// passes the organisation's locale when the user chose none.
	Locale string
	// TimeZone is the organisation's (audit.OrgSettings.TimeZone); every
	// date and time is written in it. nil means UTC.
	TimeZone *time.Location
	// ConsoleURL is the console's address ("https://audit.example.com");
	// empty leaves the links out.
	ConsoleURL string
}

// Languages are the languages messages are written in.
func Languages() []string { return []string{"ru", "en"} }

// language picks the message language of a locale tag.
func language(tag string) string {
	primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	primary, _, _ = strings.Cut(primary, "_")
	if primary == "ru" {
		return "ru"
	}
	return "en"
}

// lang formats values for one reader; templates call its methods
// ({{.L.Date .E.VisitedAt}}), so each template says what it shows and
// lang says how, in one place for every message.
type lang struct {
	Code string // "ru" or "en"
	tz   *time.Location
	base string
}

func newLang(r Reader) *lang {
	tz := r.TimeZone
	if tz == nil {
		tz = time.UTC
	}
	return &lang{Code: language(r.Locale), tz: tz, base: strings.TrimRight(r.ConsoleURL, "/")}
}

func (l *lang) ru() bool { return l.Code == "ru" }

var (
	ruMonths = [...]string{"январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь"}
	enMonths = [...]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
)

// Date is a day in the organisation's zone: "05.03.2026", "5 Mar 2026".
func (l *lang) Date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if l.ru() {
		return t.In(l.tz).Format("02.01.2006")
	}
	return t.In(l.tz).Format("2 Jan 2006")
}

// DateTime is a moment in the organisation's zone, with the zone's
// abbreviation: "05.03.2026 14:30 MSK", "5 Mar 2026, 14:30 MSK".
func (l *lang) DateTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if l.ru() {
		return t.In(l.tz).Format("02.01.2006 15:04 MST")
	}
	return t.In(l.tz).Format("2 Jan 2006, 15:04 MST")
}

// Month names a pay period: "март 2026", "March 2026".
func (l *lang) Month(year int, m time.Month) string {
	if m < time.January || m > time.December {
		return strconv.Itoa(year)
	}
	if l.ru() {
		return ruMonths[m-1] + " " + strconv.Itoa(year)
	}
	return enMonths[m-1] + " " + strconv.Itoa(year)
}

// Score is a percentage as the console writes it (at most one decimal):
// "87,5 %" and "90 %" in Russian (no-break space), "87.5%" in English;
// "—" when the visit had nothing applicable.
func (l *lang) Score(p *float64) string {
	if p == nil || math.IsNaN(*p) {
		return "—"
	}
	s := strconv.FormatFloat(math.Round(*p*10)/10, 'f', -1, 64)
	if l.ru() {
		return strings.Replace(s, ".", ",", 1) + "\u00a0%"
	}
	return s + "%"
}

var currencySigns = map[string]string{"RUB": "₽", "EUR": "€", "USD": "$", "GBP": "£", "KZT": "₸", "BYN": "Br"}

// Money formats minor units (two decimals) of a currency: "1 234 567,50 ₽"
// in Russian (no-break spaces), "₽1,234,567.50" in English; an unknown
// currency is written by its code.
func (l *lang) Money(minor int64, currency string) string {
	sign := ""
	if minor < 0 {
		sign = "-"
	}
	abs := uint64(minor)
	if minor < 0 {
		abs = uint64(-minor)
	}
	group, decimal := ",", "."
	if l.ru() {
		group, decimal = "\u00a0", ","
	}
	whole := strconv.FormatUint(abs/100, 10)
	var b strings.Builder
	for i, d := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(d)
	}
	cents := strconv.FormatUint(abs%100+100, 10)[1:]
	amount := sign + b.String() + decimal + cents
	symbol, known := currencySigns[strings.ToUpper(currency)]
	switch {
	case l.ru() && known:
		return amount + "\u00a0" + symbol
	case l.ru():
		return amount + "\u00a0" + strings.ToUpper(currency)
	case known:
		return sign + symbol + amount[len(sign):]
	default:
		return strings.ToUpper(currency) + "\u00a0" + amount
	}
}

// Plural picks the form of a noun for n: Russian has three (one, few,
// many: 1 визит, 2 визита, 5 визитов), English two (one, other; the few
// form is ignored).
func (l *lang) Plural(n int, one, few, many string) string {
	if !l.ru() {
		if n == 1 {
			return one
		}
		return many
	}
	n10, n100 := n%10, n%100
	switch {
	case n10 == 1 && n100 != 11:
		return one
	case n10 >= 2 && n10 <= 4 && (n100 < 12 || n100 > 14):
		return few
	default:
		return many
	}
}

// Staff names an employee with his number: "Иванова Анна (таб. № 0042)",
// "Anna Ivanova (employee no. 0042)".
func (l *lang) Staff(s Staff) string {
	if s.EmployeeNumber == "" {
		return s.Name
	}
	if l.ru() {
		return s.Name + " (таб. № " + s.EmployeeNumber + ")"
	}
	return s.Name + " (employee no. " + s.EmployeeNumber + ")"
}

// Store names a store by code and name: "M-014 «Тверская»",
// "M-014 “Tverskaya”".
func (l *lang) Store(s Store) string {
	if s.Name == "" {
		return s.Code
	}
	if l.ru() {
		return s.Code + " «" + s.Name + "»"
	}
	return s.Code + " “" + s.Name + "”"
}

// Link is the console address of a page, or "" without ConsoleURL; the
// path's variable parts are escaped.
func (l *lang) Link(parts ...string) string {
	if l.base == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString(l.base)
	for i, p := range parts {
		if i%2 == 1 {
			p = url.PathEscape(p)
		}
		b.WriteString(p)
	}
	return b.String()
}

// StaffList names several employees, separated by commas.
func (l *lang) StaffList(staff []Staff) string {
	names := make([]string, len(staff))
	for i, s := range staff {
		names[i] = l.Staff(s)
	}
	return strings.Join(names, ", ")
}
