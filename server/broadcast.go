package server

import (
	"fmt"

	"mcplambda/mcp"
)

// Broadcasts are the messages that belong to no request: list changes,
// resource updates and server log messages. The registry describes each
// change once and offers it to every audience: a Handler's sessions (on
// their standalone GET streams; a session without one misses it, as the
// transport allows) and its subscriptions/listen streams.

// An audience receives the registry's changes.
type audience interface {
	notify(ev *change)
}

type changeKind uint8

const (
	changeList changeKind = iota
	changeResource
	changeLog
)

// change is one broadcast: its notification method, what it is about, and
// its session-era encoding (one message for every session).
type change struct {
	kind   changeKind
	method string
	uri    string // changeResource
	sev    int    // changeLog: the message's severity
	msg    []byte
}

func (s *Server) addAudience(a audience)    { s.audiences.Store(a, struct{}{}) }
func (s *Server) removeAudience(a audience) { s.audiences.Delete(a) }

func (s *Server) broadcast(ev *change) {
	s.audiences.Range(func(k, _ any) bool {
		k.(audience).notify(ev)
		return true
	})
}

// listChanged tells every session that a list (tools, resources, prompts)
// changed.
func (s *Server) listChanged(method string) {
	msg, _ := mcp.AppendRequest(nil, mcp.ID{}, method, nil)
	s.broadcast(&change{kind: changeList, method: method, msg: msg})
}

// NotifyResourceUpdated tells every session subscribed to uri that it
// changed.
func (s *Server) NotifyResourceUpdated(uri string) {
	msg, _ := mcp.AppendRequest(nil, mcp.ID{}, mcp.NotificationResourcesUpdated, mcp.ResourceUpdatedParams{URI: uri})
	s.broadcast(&change{kind: changeResource, method: mcp.NotificationResourcesUpdated, uri: uri, msg: msg})
}

// Log sends a notifications/message that belongs to no request to every
// session whose logging level lets it through. It fails only when data
// cannot be encoded as JSON. The stateless era has no such messages: there
// a log message belongs to a request.
func (s *Server) Log(level mcp.LoggingLevel, logger string, data any) error {
	msg, err := mcp.AppendRequest(nil, mcp.ID{}, mcp.NotificationMessage, mcp.LoggingMessageParams{Level: level, Logger: logger, Data: data})
	if err != nil {
		return fmt.Errorf("log message not encodable: %w", err)
	}
	s.broadcast(&change{kind: changeLog, method: mcp.NotificationMessage, sev: level.Severity(), msg: msg})
	return nil
}

// notify implements audience for the session era.
func (t *sessionTable) notify(ev *change) {
	for _, ls := range t.all() {
		switch ev.kind {
		case changeResource:
			if !ls.subscribed(ev.uri) {
				continue
			}
		case changeLog:
			if ev.sev < ls.logSeverity() {
				continue
			}
		}
		ls.sendStandalone(ev.msg)
	}
}
