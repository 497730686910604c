package repl

import (
	"errors"
	"strings"
)

// word is one argument of a command line and where its raw text ends, so a
// command can take the rest of the line verbatim (JSON arguments).
type word struct {
	text string
	end  int
}

// splitWords splits a command line into words separated by blanks. Double
// quotes group (with \" and \\ escapes inside), single quotes group
// literally, as in a shell, so `greet "Ada Lovelace"` has two words.
func splitWords(line string) ([]word, error) {
	var words []word
	var cur strings.Builder
	in := false // inside a word
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			if in {
				words = append(words, word{cur.String(), i})
				cur.Reset()
				in = false
			}
		case c == '"':
			in = true
			j := i + 1
			for ; j < len(line) && line[j] != '"'; j++ {
				if line[j] == '\\' && j+1 < len(line) && (line[j+1] == '"' || line[j+1] == '\\') {
					j++
				}
				cur.WriteByte(line[j])
			}
			if j == len(line) {
				return nil, errors.New("unterminated double quote")
			}
			i = j
		case c == '\'' && !in:
			// Only at a word's start, so O'Brien stays one word.
			in = true
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
		default:
			in = true
			cur.WriteByte(c)
		}
	}
	if in {
		words = append(words, word{cur.String(), len(line)})
	}
	return words, nil
}

// rest returns the raw text of line after word i (all of it when i < 0),
// trimmed: the JSON argument of call-tool, for instance, which quotes and
// blanks must not split.
func rest(line string, words []word, i int) string {
	if i >= len(words) {
		return ""
	}
	start := 0
	if i >= 0 {
		start = words[i].end
	}
	return strings.TrimSpace(line[start:])
}

// splitScript splits a -c script into commands on ';' and newlines, except
// inside quotes or JSON brackets, so `call-tool x {"a":"b;c"}; list-tools`
// is two commands.
func splitScript(s string) []string {
	var out []string
	depth := 0
	var quote byte
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		switch c {
		case '"':
			quote = c
		case '\'':
			if i == 0 || s[i-1] == ' ' || s[i-1] == '\t' {
				quote = c
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth > 0 {
				depth--
			}
		case ';', '\n':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	out = append(out, s[start:])
	cmds := out[:0]
	for _, c := range out {
		if c = strings.TrimSpace(c); c != "" {
			cmds = append(cmds, c)
		}
	}
	return cmds
}
