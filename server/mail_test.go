package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/server/notify"
	"github.com/shopscore/shopscore/server/notify/notifytest"
	"github.com/shopscore/shopscore/server/servertest"
	"github.com/shopscore/shopscore/server/webhook"
)

// The e-mail notifications end to end (docs/DESIGN.md §12): a real server
// queues them in the transactions of its changes and sends them through
// a real SMTP server (aiosmtpd, notifytest), whose accepted messages the
// tests read back.

// mailOf is the mail configuration of a test server sending to sink port
// port quickly: short polls and retries.
func mailOf(port int) server.Mail {
	return server.Mail{
		SMTP: notify.Config{Host: "127.0.0.1", Port: port, TLS: notify.TLSNone, From: "shopscore <noreply@shopscore.test>",
			Timeout: 5 * time.Second},
		ConsoleURL: "https://audit.example.com",
		Poll:       20 * time.Millisecond, Schedule: webhook.Schedule{Base: 20 * time.Millisecond, Max: 100 * time.Millisecond},
	}
}

// to keeps the messages to one address.
func to(ms []notifytest.Message, email string) []notifytest.Message {
	var out []notifytest.Message
	for _, m := range ms {
		if len(m.Envelope.RcptTos) == 1 && m.Envelope.RcptTos[0] == email {
			out = append(out, m)
		}
	}
	return out
}

// waitTo waits until the sink holds n messages to email and returns them.
func waitTo(t *testing.T, s *notifytest.Sink, email string, n int) []notifytest.Message {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := to(s.Messages(t), email)
		if len(got) >= n {
			return got
		}
		require.True(t, time.Now().Before(deadline), "%s got %d e-mails, want %d", email, len(got), n)
		time.Sleep(20 * time.Millisecond)
	}
}

// quiet lets the sender run for a while, for the tests that check
// nothing more arrives.
func quiet() { time.Sleep(400 * time.Millisecond) }

// testClock is a server's clock that a test moves forward.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// jumpTo moves the clock to at.
func (c *testClock) jumpTo(at time.Time) { c.offset.Store(int64(time.Until(at))) }

// inspectors keeps one Inspector per data folder and test, so that a test
// polling the rows opens one pool of connections, not one per poll.
var inspectors sync.Map // *testing.T + dir -> *servertest.Inspector

// mailRows counts a user's queued e-mails in a state ("" for all).
func mailRows(t *testing.T, dir, userID, state string) int {
	t.Helper()
	key := fmt.Sprintf("%p %s", t, dir)
	v, ok := inspectors.Load(key)
	if !ok {
		v, _ = inspectors.LoadOrStore(key, servertest.Inspect(t, dir))
		t.Cleanup(func() { inspectors.Delete(key) })
	}
	db := v.(*servertest.Inspector)
	q, args := `SELECT count(*) FROM notifications WHERE user_id = ?`, []any{userID}
	if state != "" {
		q, args = q+` AND state = ?`, append(args, state)
	}
	var n int
	require.NoError(t, db.QueryRow(q, args...).Scan(&n))
	return n
}

// returnVisit takes a complete visit into review and returns it with one
// comment on the floor photo.
func returnVisit(t *testing.T, c Clients, manager, visitID, comment string) {
	t.Helper()
	_, err := call(t, c.Review.StartReview, manager, &v1.StartReviewRequest{VisitId: visitID})
	require.NoError(t, err)
	_, err = call(t, c.Review.ReturnVisit, manager, &v1.ReturnVisitRequest{VisitId: visitID,
		Comments: []*v1.ReviewComment{{QuestionId: "floor_photo", Text: comment}}})
	require.NoError(t, err)
}

func setPrefs(t *testing.T, c Clients, token string, s *v1.NotificationSettings) *v1.NotificationSettings {
	t.Helper()
	got, err := call(t, c.Auth.SetNotificationSettings, token, &v1.SetNotificationSettingsRequest{Settings: s})
	require.NoError(t, err)
	return got.Settings
}

// TestMail_VisitReturned: a returned visit mails its shopper, in the
// language he chose (the organisation's, Russian, until he chooses), with
// the store, the checklist, the reviewer and his comment; a shopper who
// opted out is queued nothing.
func TestMail_VisitReturned(t *testing.T) {
	sink := notifytest.Start(t, notifytest.Options{})
	ts := mustRunSyncServer(t, &server.Config{Mail: mailOf(sink.Port)})
	c := clientsOf(ts, http.DefaultClient)
	f := newField(t, ts, c)
	manager := mustLogin(t, c, audit.RoleManager, "desk-"+uuid.NewString()).Tokens.AccessToken
	shopper := demo.Users[audit.RoleShopper]

	got, err := call(t, c.Auth.GetNotificationSettings, f.token, &v1.GetNotificationSettingsRequest{})
	require.NoError(t, err)
	assert.True(t, got.EmailConfigured)
	assert.Equal(t, int32(8), got.DigestHour)
	assert.Equal(t, &v1.NotificationSettings{}, got.Settings, "the defaults: the organisation's language, e-mail on, no digest")
	_, err = call(t, c.Auth.SetNotificationSettings, f.token, &v1.SetNotificationSettingsRequest{Settings: &v1.NotificationSettings{Language: "de"}})
	requireCode(t, connect.CodeInvalidArgument, err, "ru, en or empty only")

	// Russian, the organisation's locale.
	returnVisit(t, c, manager, f.completeVisit(t).visit.ID, "На фото склад, а не торговый зал.")
	m := waitTo(t, sink, shopper, 1)[0]
	assert.True(t, strings.HasPrefix(m.Subject, "Визит возвращён на доработку: MSK-01 «Building materials, Tverskaya», "), m.Subject)
	for _, want := range []string{"Здравствуйте!", "Магазин: MSK-01 «Building materials, Tverskaya»", "Maria Ivanova (store manager)",
		"«Take a photo of the sales floor.»: На фото склад, а не торговый зал."} {
		assert.Contains(t, m.Text, want)
	}
	assert.Contains(t, m.HTML, `<html lang="ru">`)
	assert.Equal(t, []string{shopper}, m.Envelope.RcptTos)

	// English, once he chooses it: rendered when sent, in his language.
	assert.Equal(t, "en", setPrefs(t, c, f.token, &v1.NotificationSettings{Language: "EN"}).Language)
	returnVisit(t, c, manager, f.completeVisit(t).visit.ID, "The photo shows the warehouse.")
	m = waitTo(t, sink, shopper, 2)[1]
	assert.True(t, strings.HasPrefix(m.Subject, "Visit returned for correction: MSK-01 “Building materials, Tverskaya”, "), m.Subject)
	for _, want := range []string{"Your visit has been returned for correction.", "Reviewer: Maria Ivanova (store manager)",
		"«Take a photo of the sales floor.»: The photo shows the warehouse."} {
		assert.Contains(t, m.Text, want)
	}

	// Opted out: nothing queued, nothing sent.
	assert.True(t, setPrefs(t, c, f.token, &v1.NotificationSettings{Language: "en", EmailOff: true}).EmailOff)
	returnVisit(t, c, manager, f.completeVisit(t).visit.ID, "Again the warehouse.")
	assert.Equal(t, 2, mailRows(t, ts.DataDir, f.shopperID, ""), "the opted-out shopper's return queued nothing")
	quiet()
	assert.Len(t, to(sink.Messages(t), shopper), 2)
}

// TestMail_ActionAssigned: a failed critical question opens an action
// whose owner, the approving manager, is told by e-mail with the store,
// the question and its clause; reassigned, the new owner is told too.
func TestMail_ActionAssigned(t *testing.T) {
	sink := notifytest.Start(t, notifytest.Options{})
	ts := mustRunSyncServer(t, &server.Config{Mail: mailOf(sink.Port)})
	c := clientsOf(ts, http.DefaultClient)
	f := newField(t, ts, c)
	manager := mustLogin(t, c, audit.RoleManager, "desk-"+uuid.NewString()).Tokens.AccessToken
	actions := shopscorev1connect.NewActionServiceClient(http.DefaultClient, ts.URL)

	rec := f.completeVisit(t, "tags_match_till")
	_, err := call(t, c.Review.StartReview, manager, &v1.StartReviewRequest{VisitId: rec.visit.ID})
	require.NoError(t, err)
	_, err = call(t, c.Review.ApproveVisit, manager, &v1.ApproveVisitRequest{VisitId: rec.visit.ID})
	require.NoError(t, err)

	m := waitTo(t, sink, demo.Users[audit.RoleManager], 1)[0]
	assert.Equal(t, "Вам назначено корректирующее действие: MSK-01 «Building materials, Tverskaya», PRC-3", m.Subject)
	for _, want := range []string{"Здравствуйте, Maria Ivanova (store manager)!", "Вопрос: Did the till charge the price on the tag?",
		"Пункт стандарта: PRC-3 (критический)", "Ответственный: Maria Ivanova (store manager)"} {
		assert.Contains(t, m.Text, want)
	}

	mine, err := call(t, actions.ListActions, manager, &v1.ListActionsRequest{Mine: true})
	require.NoError(t, err)
	require.Len(t, mine.Actions, 1)
	users, err := call(t, c.Admin.ListUsers, f.admin, &v1.ListUsersRequest{})
	require.NoError(t, err)
	var second string
	for _, u := range users.Users {
		if u.Email == demo.SecondManager {
			second = u.Id
		}
	}
	require.NotEmpty(t, second)
	_, err = call(t, actions.ReassignAction, manager, &v1.ReassignActionRequest{ActionId: mine.Actions[0].Id, OwnerId: second})
	require.NoError(t, err)
	m = waitTo(t, sink, demo.SecondManager, 1)[0]
	assert.Contains(t, m.Text, "Maria Ivanova (store manager) назначает вам корректирующее действие.")
	assert.Contains(t, m.Text, "Ответственный: Pavel Orlov (second store manager)")
}

// TestMail_BonusRunReady: a computed bonus run mails every enabled HR
// user with the policy, the month and the total.
func TestMail_BonusRunReady(t *testing.T) {
	sink := notifytest.Start(t, notifytest.Options{})
	ts := mustRunSyncServer(t, &server.Config{Mail: mailOf(sink.Port)})
	require.NoError(t, demo.SeedReports(context.Background(), ts.Server))
	c := clientsOf(ts, http.DefaultClient)
	hrEmail := demo.Users[audit.RoleHR]
	seeded := len(waitTo(t, sink, hrEmail, 1)) // the demo's own run of its first month

	hr := mustLogin(t, c, audit.RoleHR, "desk-"+uuid.NewString()).Tokens.AccessToken
	assert.Equal(t, "en", setPrefs(t, c, hr, &v1.NotificationSettings{Language: "en"}).Language)
	rc := shopscorev1connect.NewReportServiceClient(http.DefaultClient, ts.URL)
	run, err := call(t, rc.RunBonus, hr, &v1.RunBonusRequest{PolicyId: demo.PolicyID, Period: demo.ReportMonths[1]})
	require.NoError(t, err)
	m := waitTo(t, sink, hrEmail, seeded+1)[seeded]
	assert.Equal(t, "Bonus run awaiting approval: Delivery drivers: 55% trips, 45% audited quality, October 2026", m.Subject)
	assert.Contains(t, m.Text, "Computed by: Olga Petrova (HR)")
	assert.Contains(t, m.Text, "Employees: ")
	assert.Contains(t, m.Text, "Total: ₽")
	assert.Contains(t, m.Text, "https://audit.example.com/hr/runs/"+run.Run.Id)
}

// TestMail_Digest: a user with the daily digest gets his messages of the
// day as one e-mail at the digest hour, listing each, and nothing before.
func TestMail_Digest(t *testing.T) {
	sink := notifytest.Start(t, notifytest.Options{})
	clock := &testClock{}
	ts := mustRunSyncServer(t, &server.Config{Mail: mailOf(sink.Port), Now: clock.Now})
	c := clientsOf(ts, http.DefaultClient)
	f := newField(t, ts, c)
	manager := mustLogin(t, c, audit.RoleManager, "desk-"+uuid.NewString()).Tokens.AccessToken
	shopper := demo.Users[audit.RoleShopper]

	assert.True(t, setPrefs(t, c, f.token, &v1.NotificationSettings{Language: "en", DailyDigest: true}).DailyDigest)
	msk, err := time.LoadLocation("Europe/Moscow")
	require.NoError(t, err)
	now := clock.Now().In(msk)
	digestAt := time.Date(now.Year(), now.Month(), now.Day(), 8, 0, 0, 0, msk)
	if !digestAt.After(now) {
		digestAt = digestAt.AddDate(0, 0, 1)
	}
	returnVisit(t, c, manager, f.completeVisit(t).visit.ID, "First: the photo shows the warehouse.")
	returnVisit(t, c, manager, f.completeVisit(t).visit.ID, "Second: the photo is blurred.")
	assert.Equal(t, 1, mailRows(t, ts.DataDir, f.shopperID, "pending"), "one digest gathers the day's messages")
	quiet()
	assert.Empty(t, to(sink.Messages(t), shopper), "nothing before the digest hour")

	// From the hour on, a new message joins tomorrow's digest, and
	// today's goes out DigestGrace later: an item never joins a digest
	// another server may be sending already.
	third := f.completeVisit(t).visit.ID
	clock.jumpTo(digestAt.Add(time.Second))
	manager = mustLogin(t, c, audit.RoleManager, "desk-"+uuid.NewString()).Tokens.AccessToken
	returnVisit(t, c, manager, third, "Third: after the hour.")
	assert.Equal(t, 2, mailRows(t, ts.DataDir, f.shopperID, "pending"), "the third waits for tomorrow's digest")
	quiet()
	assert.Empty(t, to(sink.Messages(t), shopper), "nothing within the grace after the hour")
	clock.jumpTo(digestAt.Add(app.DigestGrace + time.Second))
	got := waitTo(t, sink, shopper, 1)
	m := got[0]
	assert.Equal(t, "Your shopscore digest for "+digestAt.Format("2 Jan 2006")+": 2 notifications", m.Subject)
	for _, want := range []string{"Visits returned to you for correction:", "MSK-01 “Building materials, Tverskaya”",
		"Maria Ivanova (store manager): «Take a photo of the sales floor.»: First: the photo shows the warehouse.",
		"«Take a photo of the sales floor.»: Second: the photo is blurred."} {
		assert.Contains(t, m.Text, want)
	}
	assert.NotContains(t, m.Text, "Third")
	quiet()
	assert.Len(t, to(sink.Messages(t), shopper), 1, "one e-mail for the day")
	assert.Equal(t, 1, mailRows(t, ts.DataDir, f.shopperID, "pending"), "tomorrow's digest still waits")
}

// TestMail_ReviewsWaiting: visits waiting for review longer than the
// organisation's limit remind the managers of their store, once a day.
func TestMail_ReviewsWaiting(t *testing.T) {
	sink := notifytest.Start(t, notifytest.Options{})
	clock := &testClock{}
	ts := mustRunSyncServer(t, &server.Config{Mail: mailOf(sink.Port), Now: clock.Now, ExpireEvery: 30 * time.Millisecond})
	c := clientsOf(ts, http.DefaultClient)
	f := newField(t, ts, c)
	set, err := call(t, c.Org.UpdateOrgSettings, f.admin, &v1.UpdateOrgSettingsRequest{Settings: &v1.OrgSettings{ReviewWaitDays: 2}})
	require.NoError(t, err)
	assert.Equal(t, int32(2), set.Settings.ReviewWaitDays)
	_, err = call(t, c.Org.UpdateOrgSettings, f.admin, &v1.UpdateOrgSettingsRequest{Settings: &v1.OrgSettings{ReviewWaitDays: 61}})
	requireCode(t, connect.CodeInvalidArgument, err, "at most 60 days")

	rec := f.completeVisit(t)
	quiet()
	assert.Empty(t, sink.Messages(t), "a visit just completed is not waiting long")

	msk, err := time.LoadLocation("Europe/Moscow")
	require.NoError(t, err)
	later := clock.Now().In(msk).AddDate(0, 0, 3)
	clock.jumpTo(time.Date(later.Year(), later.Month(), later.Day(), 9, 0, 0, 0, msk))
	for _, email := range []string{demo.Users[audit.RoleManager], demo.SecondManager} {
		m := waitTo(t, sink, email, 1)[0]
		assert.Equal(t, "1 визит ждёт проверки дольше 2 дней", m.Subject, email)
		assert.Contains(t, m.Text, "- MSK-01 «Building materials, Tverskaya», ")
		assert.Contains(t, m.Text, "тайный покупатель Andrei Popescu (mystery shopper)")
		assert.Contains(t, m.Text, "https://audit.example.com/visits/"+rec.visit.ID)
	}
	quiet()
	assert.Len(t, sink.Messages(t), 2, "once a day: the later ticks queue nothing")
}

// TestMail_TransientRetriedPermanentFailed: a recipient the SMTP server
// refuses twice with 451 gets his e-mail once, on the third attempt; one
// it refuses with 550 is given up at once, the reply kept; one it always
// refuses with 451 is retried until the retry window has passed, then
// given up.
func TestMail_TransientRetriedPermanentFailed(t *testing.T) {
	shopper, manager := demo.Users[audit.RoleShopper], demo.Users[audit.RoleManager]
	sink := notifytest.Start(t, notifytest.Options{Rules: []string{shopper + "=2*451 4.3.0 Mailbox busy, try later",
		manager + "=550 5.1.1 No such mailbox", demo.SecondManager + "=451 4.2.2 Mailbox full"}})
	mail := mailOf(sink.Port)
	mail.Schedule.Window = 2 * time.Second
	ts := mustRunSyncServer(t, &server.Config{Mail: mail})
	c := clientsOf(ts, http.DefaultClient)
	f := newField(t, ts, c)
	lr := mustLogin(t, c, audit.RoleManager, "desk-"+uuid.NewString())
	actions := shopscorev1connect.NewActionServiceClient(http.DefaultClient, ts.URL)

	returnVisit(t, c, lr.Tokens.AccessToken, f.completeVisit(t).visit.ID, "Retake the floor photo.")
	rec := f.completeVisit(t, "tags_match_till")
	_, err := call(t, c.Review.StartReview, lr.Tokens.AccessToken, &v1.StartReviewRequest{VisitId: rec.visit.ID})
	require.NoError(t, err)
	_, err = call(t, c.Review.ApproveVisit, lr.Tokens.AccessToken, &v1.ApproveVisitRequest{VisitId: rec.visit.ID})
	require.NoError(t, err)
	mine, err := call(t, actions.ListActions, lr.Tokens.AccessToken, &v1.ListActionsRequest{Mine: true})
	require.NoError(t, err)
	require.Len(t, mine.Actions, 1)
	second, _, err := ts.Server.Storage().Users().FindByEmail(context.Background(), demo.SecondManager)
	require.NoError(t, err)
	_, err = call(t, actions.ReassignAction, lr.Tokens.AccessToken, &v1.ReassignActionRequest{ActionId: mine.Actions[0].Id, OwnerId: second.ID})
	require.NoError(t, err)

	waitTo(t, sink, shopper, 1)
	failed := func(id string) bool { return mailRows(t, ts.DataDir, id, "failed") == 1 }
	require.Eventually(t, func() bool { return failed(lr.User.Id) && failed(second.ID) }, 30*time.Second, 20*time.Millisecond)
	quiet()
	assert.Len(t, to(sink.Messages(t), shopper), 1, "delivered once")
	assert.Empty(t, to(sink.Messages(t), manager))
	assert.Empty(t, to(sink.Messages(t), demo.SecondManager))

	db := servertest.Inspect(t, ts.DataDir)
	row := func(id string) (attempts int, state, lastErr string) {
		t.Helper()
		require.NoError(t, db.QueryRow(`SELECT attempts, state, last_error FROM notifications WHERE user_id = ?`, id).Scan(&attempts, &state, &lastErr))
		return
	}
	attempts, state, _ := row(f.shopperID)
	assert.Equal(t, 3, attempts, "two refusals, then sent")
	assert.Equal(t, "sent", state)
	attempts, _, lastErr := row(lr.User.Id)
	assert.Equal(t, 1, attempts, "a permanent refusal is not retried")
	assert.Contains(t, lastErr, "550")
	assert.Contains(t, lastErr, "permanent")
	attempts, _, lastErr = row(second.ID)
	assert.Greater(t, attempts, 2, "retried while the window lasted")
	assert.Contains(t, lastErr, "451")
	assert.Contains(t, lastErr, "transient")
}

// TestMail_SurvivesRestart: an e-mail committed with its change on a
// server that dies before sending is sent by the server started after
// it, once.
func TestMail_SurvivesRestart(t *testing.T) {
	sink := notifytest.Start(t, notifytest.Options{})
	dir := t.TempDir()
	mail := mailOf(sink.Port)
	mail.Off = true // queues, sends nothing: as if it died before sending
	first, kill := killable(t, server.Config{DataDir: dir, LoginRate: server.Rate{Burst: 1000, Every: time.Millisecond}, Mail: mail})
	c := clientsOf(first, http.DefaultClient)
	f := newField(t, first, c)
	manager := mustLogin(t, c, audit.RoleManager, "desk-"+uuid.NewString()).Tokens.AccessToken
	returnVisit(t, c, manager, f.completeVisit(t).visit.ID, "Retake the floor photo.")
	require.Equal(t, 1, mailRows(t, dir, f.shopperID, "pending"), "queued with the return")
	kill()
	assert.Empty(t, sink.Messages(t))

	servertest.Run(t, server.Config{DataDir: dir, Mail: mailOf(sink.Port)})
	waitTo(t, sink, demo.Users[audit.RoleShopper], 1)
	quiet()
	assert.Len(t, sink.Messages(t), 1, "sent once")
}

// TestMail_NothingQueued: a server without an SMTP configuration queues
// nothing (and says so to the settings form); one with it queues nothing
// for a disabled user.
func TestMail_NothingQueued(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	c := clientsOf(ts, http.DefaultClient)
	f := newField(t, ts, c)
	manager := mustLogin(t, c, audit.RoleManager, "desk-"+uuid.NewString()).Tokens.AccessToken
	got, err := call(t, c.Auth.GetNotificationSettings, f.token, &v1.GetNotificationSettingsRequest{})
	require.NoError(t, err)
	assert.False(t, got.EmailConfigured)
	returnVisit(t, c, manager, f.completeVisit(t).visit.ID, "Retake the floor photo.")
	assert.Equal(t, 0, mailRows(t, ts.DataDir, f.shopperID, ""), "no SMTP server: nothing queued")

	sink := notifytest.Start(t, notifytest.Options{})
	ts = mustRunSyncServer(t, &server.Config{Mail: mailOf(sink.Port)})
	c = clientsOf(ts, http.DefaultClient)
	f = newField(t, ts, c)
	manager = mustLogin(t, c, audit.RoleManager, "desk-"+uuid.NewString()).Tokens.AccessToken
	id := f.completeVisit(t).visit.ID
	_, err = call(t, c.Admin.DisableUser, f.admin, &v1.DisableUserRequest{UserId: f.shopperID})
	require.NoError(t, err)
	returnVisit(t, c, manager, id, "Retake the floor photo.")
	assert.Equal(t, 0, mailRows(t, ts.DataDir, f.shopperID, ""), "a disabled shopper is queued nothing")
	quiet()
	assert.Empty(t, sink.Messages(t))
}

// TestMail_ActionOverdue: an action past its due day mails its owner and
// the store's managers, each once.
func TestMail_ActionOverdue(t *testing.T) {
	sink := notifytest.Start(t, notifytest.Options{})
	clock := &testClock{}
	ts := mustRunSyncServer(t, &server.Config{Mail: mailOf(sink.Port), Now: clock.Now, ExpireEvery: 30 * time.Millisecond})
	c := clientsOf(ts, http.DefaultClient)
	f := newField(t, ts, c)
	manager := mustLogin(t, c, audit.RoleManager, "desk-"+uuid.NewString()).Tokens.AccessToken
	rec := f.completeVisit(t, "tags_match_till")
	_, err := call(t, c.Review.StartReview, manager, &v1.StartReviewRequest{VisitId: rec.visit.ID})
	require.NoError(t, err)
	_, err = call(t, c.Review.ApproveVisit, manager, &v1.ApproveVisitRequest{VisitId: rec.visit.ID})
	require.NoError(t, err)
	owner := demo.Users[audit.RoleManager]
	waitTo(t, sink, owner, 1) // assigned

	msk, err := time.LoadLocation("Europe/Moscow")
	require.NoError(t, err)
	later := clock.Now().In(msk).AddDate(0, 0, 5) // a critical action has 3 days
	clock.jumpTo(time.Date(later.Year(), later.Month(), later.Day(), 10, 0, 0, 0, msk))
	m := waitTo(t, sink, owner, 2)[1]
	assert.True(t, strings.HasPrefix(m.Subject, "Просрочено корректирующее действие: MSK-01 «Building materials, Tverskaya», PRC-3 (срок "), m.Subject)
	assert.Contains(t, m.Text, "Вопрос: Did the till charge the price on the tag?")
	second := waitTo(t, sink, demo.SecondManager, 1)[0]
	assert.Equal(t, m.Subject, second.Subject, "the store's other manager is told too")
	quiet()
	assert.Len(t, to(sink.Messages(t), owner), 2, "the owner, who manages the store too, once")
	assert.Len(t, to(sink.Messages(t), demo.SecondManager), 1, "reported once")
}
