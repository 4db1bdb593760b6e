package console

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/frontdesk/frontdesk/bot"
	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/internal/httperr"
	"github.com/frontdesk/frontdesk/kb"
)

// ArticleEditor is what the console needs to turn answers into articles
// and to let admins edit them (*kb.Editor implements it).
type ArticleEditor interface {
	Writable() error
	Check(name string, data []byte) (*kb.Article, []kb.Problem, error)
	Write(ctx context.Context, name string, data []byte) (*kb.Article, []kb.Problem, error)
	Source(id string) (file string, data []byte, ok bool)
	NewFile(id string) string
}

// articleRequest turns a conversation's question and an agent's reply
// into an article: POST /api/agent/conversations/{id}/article.
type articleRequest struct {
	QuestionSeq int64 `json:"question_seq"`
	ReplySeq    int64 `json:"reply_seq"`
	// Either a new article (ID defaults from Title, Title from the
	// question) or AddTo, an existing article the question becomes a
	// phrasing of.
	ID    string   `json:"id,omitempty"`
	Title string   `json:"title,omitempty"`
	Tags  []string `json:"tags,omitempty"`
	AddTo string   `json:"add_to,omitempty"`
}

// articleResponse says whether the article was written; when it could
// not be (Saved false), Reason says why and Markdown is the file to add
// by hand.
type articleResponse struct {
	Saved    bool         `json:"saved"`
	Reason   string       `json:"reason,omitempty"`
	File     string       `json:"file"`
	Markdown string       `json:"markdown"`
	Article  *articleView `json:"article,omitempty"`
	Problems []kb.Problem `json:"problems"`
}

type articleView struct {
	ID        string   `json:"id"`
	Title     string   `json:"title"`
	Questions []string `json:"questions"`
	Body      string   `json:"body"`
}

func viewArticle(a *kb.Article) *articleView {
	if a == nil {
		return nil
	}
	return &articleView{ID: a.ID, Title: a.Title, Questions: a.Questions, Body: a.Body}
}

// handleSaveAnswer turns a customer's question and an agent's reply in a
// conversation the agent may read into an article, or adds the question
// to an existing article's phrasings; the knowledge base answers it at
// once.
func (s *Server) handleSaveAnswer() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		if s.opts.Editor == nil {
			writeError(w, http.StatusServiceUnavailable, "saving articles is not configured on this server")
			return
		}
		conv, _, ok := s.readable(w, r, sess)
		if !ok {
			return
		}
		var in articleRequest
		if !decode(w, r, &in) {
			return
		}
		msgs, err := s.engine.Transcript(r.Context(), conv.ID, 0)
		if err != nil {
			s.fail(w, err, "load the messages", sess, conv.ID)
			return
		}
		find := func(seq int64) *bot.Message {
			i := slices.IndexFunc(msgs, func(m bot.Message) bool { return m.Seq == seq })
			if i < 0 {
				return nil
			}
			return &msgs[i]
		}
		q := find(in.QuestionSeq)
		if q == nil || q.From != bot.FromCustomer || q.Payload != "" || strings.TrimSpace(q.Text) == "" {
			writeError(w, http.StatusBadRequest, "question_seq must name a message the customer typed in this conversation")
			return
		}
		question := strings.TrimSpace(q.Text)
		var a kb.Article
		var name string
		if in.AddTo != "" {
			file, _, ok := s.opts.Editor.Source(in.AddTo)
			cur, found := s.kb.Article(in.AddTo)
			if !ok || !found {
				writeError(w, http.StatusNotFound, "no article with that id")
				return
			}
			a, name = *cur, file
			a.Questions = append(slices.Clone(cur.Questions), question)
		} else {
			reply := find(in.ReplySeq)
			if reply == nil || reply.From != bot.FromAgent || reply.Internal || strings.TrimSpace(reply.Text) == "" {
				writeError(w, http.StatusBadRequest, "reply_seq must name an agent's reply (not a private note) in this conversation")
				return
			}
			title := strings.TrimSpace(in.Title)
			if title == "" {
				title = question
			}
			id := strings.TrimSpace(in.ID)
			if id == "" {
				id = kb.Slug(title)
			}
			if id == "" {
				writeError(w, http.StatusBadRequest, "give the article an id of lower-case letters, digits, '-' or '_'")
				return
			}
			a = kb.Article{ID: id, Title: title, Questions: []string{question}, Tags: in.Tags, Body: strings.TrimSpace(reply.Text)}
			name = s.opts.Editor.NewFile(id)
		}
		s.writeArticle(w, r, sess, name, kb.Markdown(a))
	})
}

// writeArticle checks and writes an article file, answering 201 when it
// was written, 200 with saved false and the Markdown when the content
// cannot be written, and 400 with the problems when it is not valid.
func (s *Server) writeArticle(w http.ResponseWriter, r *http.Request, sess *session, name string, data []byte) {
	out := articleResponse{File: name, Markdown: string(data), Problems: []kb.Problem{}}
	a, probs, err := s.opts.Editor.Write(r.Context(), name, data)
	switch {
	case errors.Is(err, kb.ErrNotWritable):
		a, probs, cerr := s.opts.Editor.Check(name, data)
		if cerr != nil {
			writeError(w, http.StatusBadRequest, cerr.Error())
			return
		}
		out.Reason, out.Article = err.Error()+"; download the Markdown and add it to the content by hand", viewArticle(a)
		if probs != nil {
			out.Problems = probs
		}
		httperr.WriteJSON(w, http.StatusOK, out)
		return
	case err != nil && a == nil && probs == nil:
		// A bad file name.
		writeError(w, http.StatusBadRequest, err.Error())
		return
	case err != nil:
		s.opts.Log.Error("save article", "agent", sess.agent.ID, "file", name, "err", err)
		writeError(w, http.StatusInternalServerError, "the article was written but the knowledge base could not reload: "+err.Error())
		return
	case len(probs) > 0 || a == nil:
		out.Problems = probs
		httperr.WriteJSON(w, http.StatusBadRequest, struct {
			httperr.Body
			articleResponse
		}{httperr.NewBody(bot.CodeInvalid, "the article has problems"), out})
		return
	}
	s.opts.Log.Info("article saved", "agent", sess.agent.ID, "file", name, "article", a.ID)
	out.Saved, out.Article = true, viewArticle(a)
	httperr.WriteJSON(w, http.StatusCreated, out)
}

// isAdmin: the article editor is for admins.
func isAdmin(a *handoff.Agent) bool { return a != nil && !a.Disabled && a.Role == handoff.RoleAdmin }

type articleFile struct {
	File     string `json:"file"`
	Markdown string `json:"markdown"`
}

// handleArticleSource gives admins an article's file to edit: GET
// /api/agent/admin/articles/{id}.
func (s *Server) handleArticleSource() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		if !s.editorFor(w, sess) {
			return
		}
		file, data, ok := s.opts.Editor.Source(r.PathValue("id"))
		if !ok {
			writeError(w, http.StatusNotFound, "no article with that id")
			return
		}
		httperr.WriteJSON(w, http.StatusOK, articleFile{File: file, Markdown: string(data)})
	})
}

// handleArticleCheck validates an article file as `index --check` would
// and returns the article as it would load, for the editor's preview:
// POST /api/agent/admin/articles/check.
func (s *Server) handleArticleCheck() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		if !s.editorFor(w, sess) {
			return
		}
		var in articleFile
		if !decode(w, r, &in) {
			return
		}
		a, probs, err := s.opts.Editor.Check(in.File, []byte(in.Markdown))
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		if probs == nil {
			probs = []kb.Problem{}
		}
		writable := ""
		if err := s.opts.Editor.Writable(); err != nil {
			writable = err.Error()
		}
		httperr.WriteJSON(w, http.StatusOK, struct {
			Article     *articleView `json:"article"`
			Problems    []kb.Problem `json:"problems"`
			NotWritable string       `json:"not_writable,omitempty"`
		}{viewArticle(a), probs, writable})
	})
}

// handleArticleSave writes an article file an admin edited: PUT
// /api/agent/admin/articles.
func (s *Server) handleArticleSave() http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, sess *session) {
		if !s.editorFor(w, sess) {
			return
		}
		var in articleFile
		if !decode(w, r, &in) {
			return
		}
		s.writeArticle(w, r, sess, in.File, []byte(in.Markdown))
	})
}

// editorFor answers 403 to non-admins and 503 without an editor.
func (s *Server) editorFor(w http.ResponseWriter, sess *session) bool {
	if !isAdmin(sess.agent) {
		writeError(w, http.StatusForbidden, "editing articles is for admins")
		return false
	}
	if s.opts.Editor == nil {
		writeError(w, http.StatusServiceUnavailable, "editing articles is not configured on this server")
		return false
	}
	return true
}
