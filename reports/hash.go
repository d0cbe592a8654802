package reports

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"
	"math/bits"
	"slices"
	"time"
)

// inputsHashVersion names the canonical encoding; it changes whenever the
// encoding does, so old and new hashes never collide by accident.
const inputsHashVersion = "shopscore/reports/inputs/v1"

// canon writes a canonical, unambiguous binary encoding of values to a
// hash: strings and lists are length-prefixed, numbers are fixed-width big
// endian, times are Unix seconds and nanoseconds (so the location does not
// matter).
type canon struct {
	h hash.Hash
	b []byte // the encoding not yet written to h
}

// flush writes what was encoded to the hash.
func (c *canon) flush() {
	c.h.Write(c.b)
	c.b = c.b[:0]
}

func (c *canon) u64(v uint64) {
	c.b = binary.BigEndian.AppendUint64(c.b, v)
	if len(c.b) >= 4096 {
		c.flush()
	}
}

func (c *canon) i64(v int64) { c.u64(uint64(v)) }

func (c *canon) f64(v float64) {
	if v == 0 {
		v = 0 // fold -0 into +0
	}
	c.u64(math.Float64bits(v))
}

func (c *canon) str(s string) {
	c.u64(uint64(len(s)))
	c.b = append(c.b, s...)
}

func (c *canon) boolean(b bool) {
	if b {
		c.u64(1)
	} else {
		c.u64(0)
	}
}

func (c *canon) time(t time.Time) {
	c.i64(t.Unix())
	c.i64(int64(t.Nanosecond()))
}

// set encodes a list whose order carries no meaning, sorted.
func (c *canon) set(list []string) {
	s := list
	if len(list) > 1 && !slices.IsSorted(list) {
		s = slices.Clone(list)
		slices.Sort(s)
	}
	c.u64(uint64(len(s)))
	for _, v := range s {
		c.str(v)
	}
}

func (c *canon) policy(p *Policy) {
	c.str(p.ID)
	c.i64(int64(p.Version))
	c.str(p.Name)
	c.set(p.Positions)
	c.set(p.Departments)
	c.set(p.StoreIDs)
	c.str(p.Base)
	c.f64(p.UnlinkedShare)
	c.i64(int64(p.ExplanationLimit))
	if p.ForfeitCap != 0 {
		// Hashed only when set, so that the runs of policies without a
		// cap keep the hashes they had before caps existed.
		c.str("forfeit_cap")
		c.f64(p.ForfeitCap)
	}
	c.u64(uint64(len(p.Components)))
	for i := range p.Components {
		comp := &p.Components[i]
		c.str(comp.Name)
		c.f64(comp.Share)
		c.set(comp.Categories)
		c.set(comp.Clauses)
		ts := slices.Clone(comp.Rule.Thresholds)
		slices.SortFunc(ts, func(a, b Threshold) int { return cmpFloat(a.MinPercent, b.MinPercent) })
		c.u64(uint64(len(ts)))
		for _, t := range ts {
			c.f64(t.MinPercent)
			c.f64(t.Payout)
		}
		c.boolean(comp.Rule.Linear != nil)
		if comp.Rule.Linear != nil {
			c.f64(comp.Rule.Linear.From)
			c.f64(comp.Rule.Linear.To)
		}
		c.boolean(comp.ForfeitOnCritical)
		c.i64(int64(comp.MinVisits))
		c.f64(comp.DefaultPayout)
		combine := comp.Combine
		if combine == "" {
			combine = CombineMean
		}
		c.str(combine)
		c.f64(comp.HalfLifeDays)
	}
}

func (c *canon) employee(e *Employee) {
	c.str(e.StaffID)
	c.str(e.EmployeeNumber)
	c.str(e.Name)
	c.str(e.Position)
	c.str(e.Department)
	c.str(e.StoreID)
	c.i64(e.BasePayMinor)
}

func (c *canon) observation(o *Observation) {
	c.str(o.VisitID)
	c.str(o.StoreID)
	c.set(o.StaffIDs)
	c.time(o.VisitedAt)
	c.str(o.QuestionID)
	c.str(o.Category)
	c.str(o.Clause)
	c.f64(o.Points)
	c.f64(o.MaxPoints)
	c.boolean(o.CriticalFailed)
}

// inputsHasher hashes a run's inputs. Observations arrive in any order and
// are not kept, so they enter as a multiset digest: the sum modulo 2^256 of
// each observation's own SHA-256, which does not depend on their order and,
// unlike XOR, does not cancel out duplicates.
//
// Because the sum does not depend on order, the observations are hashed on
// a goroutine of their own, in batches of hashBatch, while Compute
// aggregates them on its own: the hash is a third of a large run's CPU
// (BENCHMARKS.md, W3), and it need not wait for the aggregation. At most
// hashBatches batches exist, so memory stays bounded whatever the run's
// size; a run of fewer than hashBatch observations never starts the
// goroutine.
type inputsHasher struct {
	head  []byte // SHA-256 of policy, period and employees
	count uint64
	acc   [4]uint64 // little-endian limbs of the 256-bit sum
	obs   canon

	batch []Observation      // filling, on Compute's goroutine
	work  chan []Observation // full batches, to the hashing goroutine
	free  chan []Observation // hashed batches, back
	done  chan struct{}      // closed when the goroutine has hashed all of work
}

const (
	hashBatch   = 1024
	hashBatches = 3
)

func newInputsHasher(p *Policy, period Period, sortedEmployees []Employee) *inputsHasher {
	c := canon{h: sha256.New()}
	c.str(inputsHashVersion)
	c.policy(p)
	c.time(period.From)
	c.time(period.To)
	c.u64(uint64(len(sortedEmployees)))
	for i := range sortedEmployees {
		c.employee(&sortedEmployees[i])
	}
	c.flush()
	return &inputsHasher{head: c.h.Sum(nil), obs: canon{h: sha256.New()}}
}

// addObservation queues o to be hashed. Compute may keep o's strings and
// slices until the run is done: the backends share them between rows and
// never change them.
func (ih *inputsHasher) addObservation(o *Observation) {
	ih.batch = append(ih.batch, *o)
	if len(ih.batch) < hashBatch {
		return
	}
	if ih.work == nil {
		ih.work, ih.free, ih.done = make(chan []Observation, hashBatches), make(chan []Observation, hashBatches), make(chan struct{})
		for range hashBatches - 1 {
			ih.free <- make([]Observation, 0, hashBatch)
		}
		go ih.hashAll()
	}
	ih.work <- ih.batch
	ih.batch = (<-ih.free)[:0]
}

func (ih *inputsHasher) hashAll() {
	defer close(ih.done)
	for b := range ih.work {
		for i := range b {
			ih.hash(&b[i])
		}
		clear(b) // drop the references until the batch is filled again
		ih.free <- b
	}
}

// hash adds one observation's digest to the sum.
func (ih *inputsHasher) hash(o *Observation) {
	ih.obs.h.Reset()
	ih.obs.observation(o)
	ih.obs.flush()
	var d [sha256.Size]byte
	ih.obs.h.Sum(d[:0])
	var carry uint64
	for i := range 4 {
		limb := binary.BigEndian.Uint64(d[24-8*i:])
		ih.acc[i], carry = bits.Add64(ih.acc[i], limb, carry)
	}
	ih.count++
}

// stop waits for the hashing goroutine, if one was started, to finish the
// batches it was given. Compute defers it, so that no goroutine outlives a
// run that failed half way.
func (ih *inputsHasher) stop() {
	if ih.work != nil {
		close(ih.work)
		<-ih.done
		ih.work = nil
	}
}

// sum hashes what is left and returns the hash of every input.
func (ih *inputsHasher) sum() string {
	ih.stop()
	for i := range ih.batch {
		ih.hash(&ih.batch[i])
	}
	ih.batch = ih.batch[:0]
	c := canon{h: sha256.New()}
	c.h.Write(ih.head)
	c.u64(ih.count)
	for i := 3; i >= 0; i-- {
		c.u64(ih.acc[i])
	}
	c.flush()
	return hex.EncodeToString(c.h.Sum(nil))
}
