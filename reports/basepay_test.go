package reports

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

func TestParseBasePay_CSV(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		data := "\xef\xbb\xbfEmployee Number;Base pay\nE1001;55 000,50\nE1002;70000\n\nE2001;1 234.5\n"
		got, err := ParseBasePay("pay.csv", []byte(data), nil)
		require.NoError(t, err)
		assert.Equal(t, []PayRow{{"E1001", 5500050, 2}, {"E1002", 7000000, 3}, {"E2001", 123450, 5}}, got)
	})
	t.Run("CommaSeparatedAnyColumnOrder", func(t *testing.T) {
		got, err := ParseBasePay("pay.csv", []byte("amount,name,employee_number\n100000.00,Ivan,E1\n"), nil)
		require.NoError(t, err)
		assert.Equal(t, []PayRow{{"E1", 10000000, 2}}, got)
	})
	t.Run("ErrEveryProblem", func(t *testing.T) {
		data := "employee_number,base_pay\nE1,abc\nE2,-5\nE1,100\n,100\nE3,1.234\n"
		_, err := ParseBasePay("pay.csv", []byte(data), nil)
		require.Error(t, err)
		assert.True(t, errors.Is(err, ErrInvalid))
		for _, want := range []string{
			`pay.csv: row 2: employee E1: "abc" is not an amount`,
			`pay.csv: row 3: employee E2: "-5" is negative`,
			`pay.csv: row 4: employee E1 is listed again (first on row 2)`,
			`pay.csv: row 5: employee number is empty`,
			`pay.csv: row 6: employee E3: "1.234" has more than two decimals`,
		} {
			assert.Contains(t, err.Error(), want)
		}
	})
	t.Run("ErrUnknownInTheSamePass", func(t *testing.T) {
		known := func(num string) bool { return num == "E1" || num == "E2" }
		data := "employee_number,base_pay\nE1,100\nE9,100\n\nE2,x\nE8,-1\n"
		_, err := ParseBasePay("pay.csv", []byte(data), known)
		require.ErrorIs(t, err, ErrInvalid)
		for _, want := range []string{
			`pay.csv: row 3: no staff with employee number E9`,
			`pay.csv: row 5: employee E2: "x" is not an amount`,
			`pay.csv: row 6: employee E8: "-1" is negative`,
			`pay.csv: row 6: no staff with employee number E8`,
		} {
			assert.Contains(t, err.Error(), want)
		}
		got, err := ParseBasePay("pay.csv", []byte("employee_number,base_pay\nE1,100\nE2,5\n"), known)
		require.NoError(t, err)
		assert.Len(t, got, 2)
	})
	t.Run("ErrHeader", func(t *testing.T) {
		_, err := ParseBasePay("pay.csv", []byte("who,how much\nE1,100\n"), nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "row 1: want a header")
	})
	t.Run("ErrEmpty", func(t *testing.T) {
		_, err := ParseBasePay("pay.csv", nil, nil)
		assert.ErrorIs(t, err, ErrInvalid)
		_, err = ParseBasePay("pay.csv", []byte("employee_number,base_pay\n"), nil)
		assert.ErrorIs(t, err, ErrInvalid)
	})
}

func TestParseBasePay_XLSX(t *testing.T) {
	f := excelize.NewFile()
	sheet := f.GetSheetName(0)
	require.NoError(t, f.SetSheetRow(sheet, "A1", &[]any{"Tab number", "Name", "Amount"}))
	require.NoError(t, f.SetSheetRow(sheet, "A2", &[]any{"E1001", "Ivan", 55000.5}))
	require.NoError(t, f.SetSheetRow(sheet, "A3", &[]any{"E1002", "Elena", 70000}))
	// Money formatting must not change what is read.
	style, err := f.NewStyle(&excelize.Style{NumFmt: 4})
	require.NoError(t, err)
	require.NoError(t, f.SetCellStyle(sheet, "C2", "C3", style))
	var buf bytes.Buffer
	require.NoError(t, f.Write(&buf))

	got, err := ParseBasePay("pay.xlsx", buf.Bytes(), nil)
	require.NoError(t, err)
	assert.Equal(t, []PayRow{{"E1001", 5500050, 2}, {"E1002", 7000000, 3}}, got)

	got, err = ParseBasePay("export", buf.Bytes(), nil)
	require.NoError(t, err, "XLSX is recognised by its content too")
	assert.Len(t, got, 2)

	_, err = ParseBasePay("pay.xlsx", []byte("PK\x03\x04 not really"), nil)
	assert.ErrorIs(t, err, ErrInvalid)
}

func TestParseMinor(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1": 100, "1.5": 150, "1,05": 105, "12 345,67": 1234567, "1e3": 100000, "1.50000": 150, "\u00a01\u00a0000": 100000,
	} {
		got, err := parseMinor(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "x", "1.2.3", "-1", "1.001", "NaN", "1e400", ".", "99999999999999999999"} {
		_, err := parseMinor(in)
		assert.Error(t, err, in)
	}
}
