package web_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/adapters/web"
	"github.com/frontdesk/frontdesk/attachment"
)

// upload posts a file as the widget does and returns the status and body.
func (s *server) upload(token, conv, id, name string, data []byte) (int, map[string]any) {
	s.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("token", token)
	mw.WriteField("conversation_id", conv)
	mw.WriteField("id", id)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	resp, err := http.Post(s.http.URL+"/attachments", mw.FormDataContentType(), &body)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (s *server) download(token, conv, id string) (*http.Response, []byte) {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.http.URL+"/attachments/"+conv+"/"+id, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestAVisitorSendsAFileThatOnlyTheyCanFetch(t *testing.T) {
	files, err := attachment.Open(filepath.Join(t.TempDir(), "attachments"), 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "", web.Options{Attachments: files})
	c := s.connect()
	w, _ := c.begin()
	token, conv := w["token"].(string), w["conversation_id"].(string)
	var img bytes.Buffer
	png.Encode(&img, image.NewGray(image.Rect(0, 0, 3, 3)))

	code, ack := s.upload(token, conv, "f1", "lamp.png", img.Bytes())
	if code != http.StatusOK || ack["seq"] == nil {
		t.Fatalf("upload: %d %v", code, ack)
	}
	// It arrives as the customer's message, with the bot's reply after it.
	fs := c.Until(func(f map[string]any) bool { return f["type"] == "message" && f["from"] == "bot" })
	var att map[string]any
	for _, f := range fs {
		if f["type"] == "message" && f["from"] == "customer" && f["id"] == "f1" {
			att, _ = f["attachment"].(map[string]any)
		}
	}
	if att == nil || att["type"] != "image/png" || att["name"] != "lamp.png" {
		t.Fatalf("the customer's message frame: %v", fs)
	}
	if bot := fs[len(fs)-1]; !strings.Contains(bot["text"].(string), "can't look at files") {
		t.Errorf("the bot answered a file with %q", bot["text"])
	}
	id := att["id"].(string)
	resp, b := s.download(token, conv, id)
	if resp.StatusCode != 200 || !bytes.Equal(b, img.Bytes()) || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("own download: %d %v", resp.StatusCode, resp.Header)
	}

	// Another visitor, or nobody, gets nothing.
	other := s.connect()
	w2, _ := other.begin()
	if resp, _ := s.download(w2["token"].(string), conv, id); resp.StatusCode == 200 {
		t.Error("another visitor fetched the file")
	}
	if resp, _ := s.download("", conv, id); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	if code, _ := s.upload(w2["token"].(string), conv, "f2", "x.png", img.Bytes()); code != http.StatusNotFound {
		t.Errorf("another visitor uploaded into the conversation: %d", code)
	}

	// Type by content, and size.
	if code, out := s.upload(token, conv, "f3", "page.png", []byte("<html><script>alert(1)</script>")); code != http.StatusBadRequest || !strings.Contains(out["message"].(string), "PDF") {
		t.Errorf("HTML named .png: %d %v", code, out)
	}
	if code, _ := s.upload(token, conv, "f4", "big.png", append(img.Bytes(), make([]byte, 70<<10)...)); code != http.StatusBadRequest && code != http.StatusRequestEntityTooLarge {
		t.Errorf("a file over the limit: %d", code)
	}
}
