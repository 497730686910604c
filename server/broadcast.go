package server

import (
	"fmt"

	"mcplambda/mcp"
)

// Broadcasts are the messages that belong to no request: list changes,
// resource updates and server log messages. The registry encodes each once
// and offers it to every session of every transport serving it, on the
// session's standalone (GET) stream; a session without one misses it, as
// the transport allows.

// An audience is a transport's sessions (the Handler's session table).
type audience interface {
	all() []*liveSession
}

func (s *Server) addAudience(a audience)    { s.audiences.Store(a, struct{}{}) }
func (s *Server) removeAudience(a audience) { s.audiences.Delete(a) }

// broadcast sends msg to every session for which wants is true (nil: all).
func (s *Server) broadcast(msg []byte, wants func(*liveSession) bool) {
	s.audiences.Range(func(k, _ any) bool {
		for _, ls := range k.(audience).all() {
			if wants == nil || wants(ls) {
				ls.sendStandalone(msg)
			}
		}
		return true
	})
}

// listChanged tells every session that a list (tools, resources, prompts)
// changed.
func (s *Server) listChanged(method string) {
	msg, _ := mcp.AppendRequest(nil, mcp.ID{}, method, nil)
	s.broadcast(msg, nil)
}

// NotifyResourceUpdated tells every session subscribed to uri that it
// changed.
func (s *Server) NotifyResourceUpdated(uri string) {
	msg, _ := mcp.AppendRequest(nil, mcp.ID{}, mcp.NotificationResourcesUpdated, mcp.ResourceUpdatedParams{URI: uri})
	s.broadcast(msg, func(ls *liveSession) bool { return ls.subscribed(uri) })
}

// Log sends a notifications/message that belongs to no request to every
// session whose logging level lets it through. It fails only when data
// cannot be encoded as JSON.
func (s *Server) Log(level mcp.LoggingLevel, logger string, data any) error {
	msg, err := mcp.AppendRequest(nil, mcp.ID{}, mcp.NotificationMessage, mcp.LoggingMessageParams{Level: level, Logger: logger, Data: data})
	if err != nil {
		return fmt.Errorf("log message not encodable: %w", err)
	}
	sev := level.Severity()
	s.broadcast(msg, func(ls *liveSession) bool { return sev >= ls.logSeverity() })
	return nil
}
