package notify

import (
	"errors"
	"fmt"
	"net/textproto"
	"regexp"

	gomail "github.com/wneessen/go-mail"
)

// Stage is the step of sending at which a message failed.
type Stage string

const (
	// StageMessage: the message itself was refused before any connection
	// (a recipient that is not an address, empty content).
	StageMessage Stage = "message"
	// StageConnect: reaching the server, its greeting, TLS, or
	// authentication.
	StageConnect Stage = "connect"
	// StageSend: the envelope (MAIL FROM, RCPT TO) or the content (DATA).
	StageSend Stage = "send"
)

// SendError is the error of Mailer.Send. Transient says whether the same
// message may succeed later, so that a worker retries it with backoff;
// a permanent one will be refused again as it is and is given up.
//
// The rule (docs/DESIGN.md §12): the server's 4xx answers and every fault
// without an answer (refused connection, timeout, reset, TLS failure) are
// transient; a 5xx answer to the envelope or the content, and a recipient
// that is not an address, are permanent. A fault at StageConnect is
// transient even with a 5xx (a wrong password, a certificate the server
// no longer matches): it is not the message's fault, and the message goes
// out once the operator mends the configuration; a worker alerts on them.
type SendError struct {
	Stage     Stage
	Transient bool
	Code      int    // the SMTP reply code, 0 when the server gave none
	Enhanced  string // the enhanced status code ("5.1.1"), when given
	Err       error
}

func (e *SendError) Error() string {
	kind := "permanent"
	if e.Transient {
		kind = "transient"
	}
	return fmt.Sprintf("smtp %s (%s): %v", e.Stage, kind, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// IsTransient reports whether err is a SendError worth retrying.
func IsTransient(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Transient
}

var enhancedCode = regexp.MustCompile(`\b[245]\.\d{1,3}\.\d{1,3}\b`)

// classify turns what the library returned at a stage into a SendError.
func classify(stage Stage, err error) *SendError {
	se := &SendError{Stage: stage, Err: err, Transient: true}
	var lib *gomail.SendError
	var reply *textproto.Error
	switch {
	case errors.As(err, &lib):
		se.Code = lib.ErrorCode()
		se.Enhanced = lib.EnhancedStatusCode()
		if se.Enhanced == "" {
			se.Enhanced = enhancedCode.FindString(lib.Error())
		}
		switch lib.Reason {
		case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
			se.Transient = false // the message cannot be sent as it is
		}
	case errors.As(err, &reply):
		se.Code = reply.Code
		se.Enhanced = enhancedCode.FindString(reply.Msg)
	}
	if stage == StageSend && se.Code >= 500 && se.Code < 600 {
		se.Transient = false
	}
	return se
}
