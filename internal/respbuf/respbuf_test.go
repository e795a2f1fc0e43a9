package respbuf

import (
	"context"
	"testing"
)

func TestTakeGivesTheLeasedBufferOnce(t *testing.T) {
	ctx, lease := With(context.Background())
	first := Take(ctx)
	if first != lease.buf || first.Len() != 0 {
		t.Fatalf("first Take: got %p (len %d), want the lease's empty buffer %p", first, first.Len(), lease.buf)
	}
	first.WriteString(`{"a":1}`)
	second := Take(ctx)
	if second == first || second.Len() != 0 {
		t.Fatalf("second Take returned the leased buffer again (or a used one): %p", second)
	}
	if b := Take(context.Background()); b == nil || b == first {
		t.Fatal("a context without a lease must get a new buffer")
	}
}

func TestReleaseEmptiesAndKeepsOnlyModestBuffers(t *testing.T) {
	_, lease := With(context.Background())
	buf := lease.buf
	buf.WriteString("secret data of one request")
	lease.Release()
	if buf.Len() != 0 {
		t.Fatalf("a released buffer still holds %q", buf.String())
	}
	if lease.buf != nil {
		t.Fatal("the lease still holds its buffer")
	}
	lease.Release() // a second Release does nothing

	// A fresh lease always starts empty, whatever the pool hands out.
	ctx, l2 := With(context.Background())
	defer l2.Release()
	if b := Take(ctx); b.Len() != 0 {
		t.Fatalf("a new lease's buffer holds %q", b.String())
	}

	_, big := With(context.Background())
	big.buf.Grow(maxPooled + 1)
	bigBuf := big.buf
	big.Release()
	for range 100 {
		_, l := With(context.Background())
		if l.buf == bigBuf {
			t.Fatal("a buffer larger than maxPooled went back into the pool")
		}
		// Not released: the pool is not refilled with this buffer.
	}
}
