package server

import (
	"io"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// AccessLog writes one line per request, in the format of the server's
// other log lines (log/slog's text or JSON handler) with msg=request and
// the fields id, method, path, status, dur and ip.
//
// It is on by default, so it is built to cost little: a line is formatted
// into a pooled buffer by hand (no allocation; log/slog took about 1.5 µs
// and two allocations for it) and handed to w in one Write. Give it a
// writer that batches (internal/logwriter) so that the lines of many
// requests leave in one system call rather than one each.
type AccessLog struct {
	w     io.Writer
	json  bool
	stamp atomic.Pointer[stamp] // the current second, formatted
}

// NewAccessLog returns an access log writing text lines (key=value, as
// slog.TextHandler) or, with json, one JSON object per line (as
// slog.JSONHandler) to w.
func NewAccessLog(w io.Writer, json bool) *AccessLog {
	return &AccessLog{w: w, json: json}
}

var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// Log writes the line of one request that ended at end (the line's time,
// as slog stamps a line when it is logged). Write errors are ignored: a
// request is never failed for its log line.
func (a *AccessLog) Log(end time.Time, id, method, path string, status int, dur time.Duration, ip netip.Addr) {
	bp := lineBufs.Get().(*[]byte)
	b := a.appendLine((*bp)[:0], end, id, method, path, status, dur, ip)
	_, _ = a.w.Write(b)
	*bp = b
	lineBufs.Put(bp)
}

// timeLayout is slog's: RFC 3339 with milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// stamp is a second's worth of formatted time: what comes before and after
// the milliseconds. Formatting a time costs more than the rest of a line;
// within a second only the milliseconds change.
type stamp struct {
	sec        int64
	loc        *time.Location
	head, zone []byte // "2006-01-02T15:04:05", "Z07:00" formatted
}

// appendTime appends t in timeLayout, reusing the formatted second.
func (a *AccessLog) appendTime(b []byte, t time.Time) []byte {
	st := a.stamp.Load()
	if st == nil || st.sec != t.Unix() || st.loc != t.Location() {
		full := t.AppendFormat(nil, timeLayout)
		n := len("2006-01-02T15:04:05")
		st = &stamp{sec: t.Unix(), loc: t.Location(), head: full[:n:n], zone: full[n+len(".000"):]}
		a.stamp.Store(st)
	}
	b = append(b, st.head...)
	ms := t.Nanosecond() / 1e6
	b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	return append(b, st.zone...)
}

func (a *AccessLog) appendLine(b []byte, at time.Time, id, method, path string, status int, dur time.Duration, ip netip.Addr) []byte {
	if a.json {
		b = append(b, `{"time":"`...)
		b = a.appendTime(b, at)
		b = append(b, `","level":"INFO","msg":"request","id":`...)
		b = appendJSONString(b, id)
		b = append(b, `,"method":`...)
		b = appendJSONString(b, method)
		b = append(b, `,"path":`...)
		b = appendJSONString(b, path)
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(status), 10)
		b = append(b, `,"dur":`...) // nanoseconds, as slog.JSONHandler writes a Duration
		b = strconv.AppendInt(b, int64(dur), 10)
		b = append(b, `,"ip":"`...)
		if ip.IsValid() {
			b = ip.AppendTo(b) // digits, dots, colons and hex: nothing to escape
		}
		return append(b, "\"}\n"...)
	}
	b = append(b, "time="...)
	b = a.appendTime(b, at)
	b = append(b, " level=INFO msg=request id="...)
	b = appendTextValue(b, id)
	b = append(b, " method="...)
	b = appendTextValue(b, method)
	b = append(b, " path="...)
	b = appendTextValue(b, path)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, " dur="...)
	b = appendDuration(b, dur)
	b = append(b, " ip="...)
	if ip.IsValid() {
		b = ip.AppendTo(b)
	} else {
		b = append(b, `""`...)
	}
	return append(b, '\n')
}

// appendTextValue appends s as slog.TextHandler would: bare when it is
// non-empty printable ASCII without spaces, '=' or '"', else quoted.
func appendTextValue(b []byte, s string) []byte {
	if s == "" {
		return append(b, `""`...)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == '=' || c == '"' || c >= utf8.RuneSelf || c == 0x7f {
			return strconv.AppendQuote(b, s)
		}
	}
	return append(b, s...)
}

// appendDuration appends d in Go duration syntax in the largest unit that
// fits (ns, µs, ms or s), without the allocation of d.String() and with
// integer arithmetic only.
func appendDuration(b []byte, d time.Duration) []byte {
	switch {
	case d < time.Microsecond:
		return append(strconv.AppendInt(b, int64(d), 10), "ns"...)
	case d < time.Millisecond:
		return append(appendScaled(b, int64(d), 1e3), "µs"...)
	case d < time.Second:
		return append(appendScaled(b, int64(d), 1e6), "ms"...)
	}
	return append(appendScaled(b, int64(d), 1e9), 's')
}

// appendScaled appends v/scale as a decimal without trailing zeros
// (scale a power of ten).
func appendScaled(b []byte, v, scale int64) []byte {
	b = strconv.AppendInt(b, v/scale, 10)
	frac := v % scale
	if frac == 0 {
		return b
	}
	b = append(b, '.')
	for scale /= 10; frac > 0; scale /= 10 {
		b = append(b, byte('0'+frac/scale))
		frac %= scale
	}
	return b
}
