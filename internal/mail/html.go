package mail

import (
	"fmt"
	"html/template"
	"strings"
	"unicode/utf8"
)

// Email is a rendered e-mail: subject, the plain-text body and its HTML
// alternative, in one language.
type Email struct {
	Kind    string
	Locale  string // "de" or "en": the Content-Language
	Subject string
	Text    string
	HTML    string
}

// RenderEmail renders kind in locale like Render, and adds the HTML
// alternative of the body (HTML). SMS kinds are an error.
func RenderEmail(kind, locale string, data map[string]string) (Email, error) {
	if IsSMS(kind) {
		return Email{}, fmt.Errorf("mail: %s is an SMS, not an e-mail", kind)
	}
	subject, body, err := Render(kind, locale, data)
	if err != nil {
		return Email{}, err
	}
	loc := NormalizeLocale(locale)
	html, err := TextToHTML(loc, subject, body)
	if err != nil {
		return Email{}, fmt.Errorf("mail: render HTML of %s: %w", kind, err)
	}
	return Email{Kind: kind, Locale: loc, Subject: subject, Text: body, HTML: html}, nil
}

// htmlPage lays out the paragraphs of a text body. html/template escapes
// every value by its context: text in elements, URLs in href (a link that
// is not http, https or mailto becomes "#ZgotmplZ").
var htmlPage = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Subject}}</title>
</head>
<body style="margin:0;padding:0;background:#f4f4f5;">
<div style="max-width:38em;margin:0 auto;padding:24px;background:#ffffff;color:#1f2328;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5;">
{{- range .Blocks}}
{{if .Link}}<p><a href="{{.Link}}" style="color:#0b57d0;word-break:break-all;">{{.Link}}</a></p>
{{- else if .Footer}}<hr style="border:0;border-top:1px solid #d0d7de;margin:24px 0 12px;">
<p style="color:#6b7280;font-size:13px;">{{range $i, $l := .Lines}}{{if $i}}<br>{{end}}{{$l}}{{end}}</p>
{{- else}}<p>{{range $i, $l := .Lines}}{{if $i}}<br>{{end}}{{$l}}{{end}}</p>
{{- end}}
{{- end}}
</div>
</body>
</html>
`))

type htmlBlock struct {
	Lines  []string
	Link   string
	Footer bool
}

// wrappedLine is the length (in characters) from which a line of a text
// body counts as wrapped prose: its line break becomes a space in HTML,
// where the reader's window wraps. Shorter lines (a closing, a name, a
// signature) keep their break.
const wrappedLine = 50

// TextToHTML returns the HTML alternative of a plain-text body: each
// paragraph (separated by blank lines) a <p>, wrapped lines joined, a
// paragraph that is one http(s) URL a link, and the signature (after the
// "-- " line) a footer. Every piece of text is escaped.
func TextToHTML(locale, subject, body string) (string, error) {
	var blocks []htmlBlock
	footer := false
	for _, para := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n\n") {
		lines := strings.Split(strings.Trim(para, "\n"), "\n")
		if len(lines) == 1 && strings.TrimSpace(lines[0]) == "" {
			continue
		}
		if strings.TrimRight(lines[0], " ") == "--" {
			footer = true
			lines = lines[1:]
			if len(lines) == 0 {
				continue
			}
		}
		if one := strings.TrimSpace(para); len(lines) == 1 && !footer && isURL(one) {
			blocks = append(blocks, htmlBlock{Link: one})
			continue
		}
		blocks = append(blocks, htmlBlock{Lines: reflow(lines), Footer: footer})
	}
	var b strings.Builder
	err := htmlPage.Execute(&b, struct {
		Lang, Subject string
		Blocks        []htmlBlock
	}{NormalizeLocale(locale), subject, blocks})
	return b.String(), err
}

func isURL(s string) bool {
	return (strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")) && !strings.ContainsAny(s, " \t")
}

// reflow joins each line of at least wrappedLine characters with the next.
func reflow(lines []string) []string {
	var out []string
	join := false
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if join && len(out) > 0 {
			out[len(out)-1] += " " + l
		} else {
			out = append(out, l)
		}
		join = utf8.RuneCountInString(l) >= wrappedLine
	}
	return out
}
