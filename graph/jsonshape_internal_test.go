package graph

import (
	"strings"
	"testing"
)

func TestJSONShape(t *testing.T) {
	for _, c := range []struct {
		in            string
		values, depth int
	}{
		{``, 0, 0},
		{`null`, 1, 0},
		{`{"a":1,"b":2}`, 3, 1},
		{`[1,2,3]`, 4, 1},
		{`{"a":[1,[2,{"b":3}]]}`, 7, 4},
		{`{"s":"a,b[c{d\"e,f]"}`, 2, 1}, // separators inside strings do not count
		{`{"s":"\\","t":[1]}`, 4, 2},    // an escaped backslash ends before the quote
		{strings.Repeat("[", 40) + strings.Repeat("]", 40), 41, 40},
	} {
		v, d := jsonShape([]byte(c.in))
		if v != c.values || d != c.depth {
			t.Errorf("jsonShape(%q) = %d values, depth %d; want %d, %d", c.in, v, d, c.values, c.depth)
		}
	}
}
