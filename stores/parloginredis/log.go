package parloginredis

import (
	"context"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // G505: not for security, see markLen
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The log of Publish and Read is three keys, with one Cluster hash tag so that a script may use
// them together:
//
//   - prefix + "{log}:meta": a hash of the log's epoch, a random token naming its history, made
//     by the Publish that creates the log, and seq, the sequence number of its last message.
//   - prefix + "{log}:msgs": a sorted set of the messages by sequence number, each member being
//     the number, ":", and the message (members must be unique; the number makes them so). Read
//     reads on from the last number it returned (ZRANGE BYSCORE with an exclusive start).
//   - prefix + "{log}:exp": a sorted set of the sequence numbers by expiry (Unix ms). Expiries
//     differ from message to message (a revocation lasts as long as the session it ends), so the
//     log cannot simply be cut at its front: Publish deletes the expired messages wherever they
//     are, up to logTrimBatch of them per call.
//
// Why not a Redis stream, the obvious log? Its entries can be deleted anywhere (XDEL), but a
// stream frees memory a node at a time (up to 100 entries or 4 KB), only once every entry of the
// node is deleted: one long-lived message keeps a node of expired ones, and with mixed
// expiries memory grows to a node per live message. A sorted set frees each member as it goes, so
// the log's memory stays that of the messages live at the last Publish.
//
// Cursors carry the epoch with the sequence number, and a mark of the message at that number.
// When Redis loses its data (a restart without persistence, an eviction), the next Publish starts
// a new history with a new epoch and numbers from 1 again, and a Read with a cursor of an older
// history reads the new one from its start: numbers alone cannot tell, since the new history's may
// be lower, or already higher, than an old cursor's. When Redis comes back with older data under
// the same epoch (a restart from a snapshot, or from an append-only file that lost its last
// second; a failover to a replica that had not caught up), the numbers after the older data's are
// given again, to other messages: a Read whose cursor's message is no longer there as it was
// reads the log from its start.
//
// All three keys expire (PEXPIREAT) with the log's latest-expiring message, so a log that nobody
// publishes to any more goes away entirely.
type logKeys struct {
	meta, msgs, exp string
}

func newLogKeys(prefix string) logKeys {
	return logKeys{meta: prefix + "{log}:meta", msgs: prefix + "{log}:msgs", exp: prefix + "{log}:exp"}
}

const (
	// logTrimBatch bounds the expired messages that one Publish deletes: a Publish stays short,
	// and since each message expires once, deleting up to this many per message added keeps up.
	logTrimBatch = 100
	// logPage is the number of messages Read asks for at a time.
	logPage = 1000
)

// publishScript appends a message to the log and trims it. KEYS: meta, messages, expiries. ARGV:
// the message, its expiry in Unix ms, an epoch for a new log, the trim batch. It returns the
// message's sequence number.
var publishScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('HSETNX', KEYS[1], 'epoch', ARGV[3]) == 1 then
	-- A new history: nothing of an older one may be read as part of it.
	redis.call('HDEL', KEYS[1], 'seq')
	redis.call('DEL', KEYS[2], KEYS[3])
end
local expired = redis.call('ZRANGE', KEYS[3], '-inf', now, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[4]))
for _, seq in ipairs(expired) do
	redis.call('ZREMRANGEBYSCORE', KEYS[2], seq, seq)
end
if #expired > 0 then
	-- The expired are the lowest ranks. (ZREMRANGEBY* also shrink the sorted set's table; ZREM
	-- does not.)
	redis.call('ZREMRANGEBYRANK', KEYS[3], 0, #expired - 1)
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('ZADD', KEYS[2], seq, string.format('%d', seq) .. ':' .. ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], seq)
local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
for i = 1, 3 do
	redis.call('PEXPIREAT', KEYS[i], last[2])
end
return seq
`)

// readScript reads a page of the log after a cursor. KEYS: meta, messages. ARGV: the cursor's
// epoch, sequence number ("" for the start) and mark, the page size. It returns the log's epoch
// ("" when there is no log) and the messages' members ("seq:message"). A cursor whose message is
// gone, or another, reads from the start: the log came back older (or the message expired, and a
// replica reads again what it has read, which revocations allow).
var readScript = redis.NewScript(`
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
	return {'', {}}
end
local start = '-inf'
if epoch == ARGV[1] and ARGV[2] ~= '' then
	local at = redis.call('ZRANGE', KEYS[2], ARGV[2], ARGV[2], 'BYSCORE')
	if #at == 1 and string.sub(redis.sha1hex(at[1]), 1, 16) == ARGV[3] then
		start = '(' .. ARGV[2]
	end
end
return {epoch, redis.call('ZRANGE', KEYS[2], start, '+inf', 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[4]))}
`)

// Publish appends msg to the log that every replica reads, where it stays at least until exp,
// and deletes messages that have expired (see [Shared]). A message whose exp has passed may never
// be read.
func (s *Shared) Publish(ctx context.Context, msg []byte, exp time.Time) error {
	_, err := call(ctx, s.timeout, "publishing to the log", func(ctx context.Context) (struct{}, error) {
		keys := []string{s.log.meta, s.log.msgs, s.log.exp}
		return struct{}{}, publishScript.Run(ctx, s.client, keys, msg, pxat(exp), rand.Text(), logTrimBatch).Err()
	})
	return err
}

// Read returns the messages published after cursor, oldest first, and the cursor to read on
// from; the empty cursor reads every message still kept. It does not wait for messages.
//
// A cursor names a history of the log as well as a place in it (see [Shared]): after Redis lost
// the log, or came back with an older one, a cursor from before reads the log from its start, so
// no message published since is missed. Messages may then be read that a replica read before the loss, if Redis kept some
// (a failover): parlogin's revocations may be applied twice.
func (s *Shared) Read(ctx context.Context, cursor string) ([][]byte, string, error) {
	type page struct {
		msgs [][]byte
		next string
	}
	p, err := call(ctx, s.timeout, "reading the log", func(ctx context.Context) (page, error) {
		var all [][]byte
		epoch, seq, mark := parseCursor(cursor)
		for {
			res, err := readScript.Run(ctx, s.client, []string{s.log.meta, s.log.msgs}, epoch, seq, mark, logPage).Slice()
			if err != nil {
				return page{}, err
			}
			gotEpoch, seqs, msgs, err := parseLogPage(res)
			if err != nil {
				return page{}, err
			}
			all = append(all, msgs...)
			switch {
			case gotEpoch == "":
				// No log: read the next one from its start.
				return page{all, ""}, nil
			case len(seqs) > 0:
				last := len(seqs) - 1
				epoch, seq, mark = gotEpoch, seqs[last], memberMark(seqs[last], msgs[last])
			case gotEpoch != epoch:
				// A new log, empty so far: nothing of the old cursor applies.
				epoch, seq, mark = gotEpoch, "", ""
			}
			if len(seqs) < logPage {
				return page{all, formatCursor(epoch, seq, mark)}, nil
			}
		}
	})
	return p.msgs, p.next, err
}

// A cursor is epoch + "/" + the sequence number of the last message read + "/" + its mark, or
// epoch + "/" before any message.
func formatCursor(epoch, seq, mark string) string {
	if seq == "" {
		return epoch + "/"
	}
	return epoch + "/" + seq + "/" + mark
}

// parseCursor returns the epoch, sequence number and mark of cursor; a cursor that is not one of
// ours reads from the start.
func parseCursor(cursor string) (epoch, seq, mark string) {
	epoch, rest, ok := strings.Cut(cursor, "/")
	if !ok || epoch == "" {
		return "", "", ""
	}
	if rest == "" {
		return epoch, "", ""
	}
	seq, mark, ok = strings.Cut(rest, "/")
	if !ok || !isSeq(seq) || len(mark) != markLen {
		return "", "", ""
	}
	return epoch, seq, mark
}

// markLen is the length of a message's mark: 64 bits of the SHA-1 of its member (which the
// script computes too, with redis.sha1hex), in hexadecimal. It tells one message from another at
// the same number, not an adversary's: only parlogin writes the log.
const markLen = 16

// memberMark returns the mark of the message msg at number seq.
func memberMark(seq string, msg []byte) string {
	sum := sha1.Sum(append([]byte(seq+":"), msg...)) //nolint:gosec // G401: not for security, see markLen
	return hex.EncodeToString(sum[:])[:markLen]
}

// isSeq reports whether s is a sequence number: up to 15 digits, exact in a sorted set's score
// (a float64) and in the scripts' Lua numbers.
func isSeq(s string) bool {
	if s == "" || len(s) > 15 {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseLogPage parses readScript's answer: the epoch, then the members "seq:message".
func parseLogPage(res []any) (epoch string, seqs []string, msgs [][]byte, err error) {
	malformed := errors.New("malformed answer from the read script")
	if len(res) != 2 {
		return "", nil, nil, malformed
	}
	epoch, ok := res[0].(string)
	members, ok2 := res[1].([]any)
	if !ok || !ok2 {
		return "", nil, nil, malformed
	}
	for _, m := range members {
		member, _ := m.(string)
		seq, msg, ok := strings.Cut(member, ":")
		if !ok || !isSeq(seq) {
			return "", nil, nil, malformed
		}
		seqs = append(seqs, seq)
		msgs = append(msgs, []byte(msg))
	}
	return epoch, seqs, msgs, nil
}
