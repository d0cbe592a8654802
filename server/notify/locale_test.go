package notify

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestLanguage(t *testing.T) {
	for tag, want := range map[string]string{"ru": "ru", "ru-RU": "ru", "RU_ru": "ru", "en": "en", "en-GB": "en", "de-DE": "en", "": "en"} {
		assert.Equal(t, want, language(tag), "%q", tag)
	}
}

func TestFormats(t *testing.T) {
	msk, err := time.LoadLocation("Europe/Moscow")
	assert.NoError(t, err)
	ru := newLang(Reader{Locale: "ru", TimeZone: msk})
	en := newLang(Reader{Locale: "en-GB", TimeZone: msk})
	late := time.Date(2026, 3, 5, 22, 30, 0, 0, time.UTC) // already 6 March in Moscow

	assert.Equal(t, "06.03.2026", ru.Date(late))
	assert.Equal(t, "6 Mar 2026", en.Date(late))
	assert.Equal(t, "06.03.2026 01:30 MSK", ru.DateTime(late))
	assert.Equal(t, "6 Mar 2026, 01:30 MSK", en.DateTime(late))
	assert.Equal(t, "5 Mar 2026, 22:30 UTC", newLang(Reader{}).DateTime(late), "no zone means UTC")
	assert.Equal(t, "—", ru.Date(time.Time{}))
	assert.Equal(t, "март 2026", ru.Month(2026, time.March))
	assert.Equal(t, "March 2026", en.Month(2026, time.March))

	score := func(f float64) *float64 { return &f }
	assert.Equal(t, "87,5\u00a0%", ru.Score(score(87.46)))
	assert.Equal(t, "87.5%", en.Score(score(87.46)))
	assert.Equal(t, "90\u00a0%", ru.Score(score(90)))
	assert.Equal(t, "100%", en.Score(score(99.99)))
	assert.Equal(t, "—", ru.Score(nil), "nothing applicable is neither 0 nor 100")

	assert.Equal(t, "1\u00a0234\u00a0567,89\u00a0₽", ru.Money(123456789, "RUB"))
	assert.Equal(t, "₽1,234,567.89", en.Money(123456789, "RUB"))
	assert.Equal(t, "-₽0.05", en.Money(-5, "RUB"))
	assert.Equal(t, "-5,00\u00a0€", ru.Money(-500, "EUR"))
	assert.Equal(t, "999,00\u00a0CHF", ru.Money(99900, "CHF"))
	assert.Equal(t, "CHF\u00a0999.00", en.Money(99900, "chf"))

	for n, want := range map[int]string{1: "день", 2: "дня", 4: "дня", 5: "дней", 11: "дней", 12: "дней", 21: "день", 22: "дня", 25: "дней", 101: "день", 111: "дней"} {
		assert.Equal(t, want, ru.Plural(n, "день", "дня", "дней"), "%d", n)
	}
	assert.Equal(t, "day", en.Plural(1, "day", "", "days"))
	assert.Equal(t, "days", en.Plural(2, "day", "", "days"))

	assert.Equal(t, "Иванова Анна (таб. № 0042)", ru.Staff(Staff{Name: "Иванова Анна", EmployeeNumber: "0042"}))
	assert.Equal(t, "Anna Ivanova (employee no. 0042)", en.Staff(Staff{Name: "Anna Ivanova", EmployeeNumber: "0042"}))
	assert.Equal(t, "M-014 «Тверская»", ru.Store(Store{Code: "M-014", Name: "Тверская"}))

	linked := newLang(Reader{ConsoleURL: "https://audit.example.com/"})
	assert.Equal(t, "https://audit.example.com/visits/a%2Fb%3Fc", linked.Link("/visits/", "a/b?c"))
	assert.Equal(t, "", en.Link("/visits/", "v1"), "no console address, no link")
}
