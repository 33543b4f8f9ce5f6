//! Does a JPEG's entropy-coded data really cover the frame its header promises?
//!
//! Decoders (zune-jpeg included) fill a scan that ends early — a frame cut off in transit with
//! an end marker appended, or a header claiming more pixels than the data holds — with grey and
//! report success. This check walks the markers and Huffman-decodes each scan's symbols (no
//! dequantisation, no IDCT) to count the blocks it really codes: a sequential scan must code
//! every MCU before its data ends, and every component must be coded; a progressive image's
//! scans are counted the same way (refinement scans with the per-block history of which
//! coefficients are already non-zero, which decides how many correction bits follow), and
//! together they must bring every coefficient of every component to full precision. Anything
//! else is [`JpegProblem::Truncated`] or [`JpegProblem::Malformed`].
//!
//! It allocates nothing per image: the Huffman tables and the coefficient history (one bit per
//! coefficient of every block the configured image limits allow) are made once at start-up.
//!
//! No-panic rule: `unwrap`, `expect`, `panic!` and unchecked indexing are denied. Unchecked
//! arithmetic is allowed here, deliberately: it is bit-reader arithmetic on values bounded by
//! construction (bit counts ≤ 64, code lengths ≤ 16, coefficient indices ≤ 64 + 16), and the
//! `image_decode` fuzz target runs this module with overflow checks on.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::frame::ImageLimits;

/// Why a JPEG was refused.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum JpegProblem {
    /// Markers, tables or headers are not a JPEG the decoders can read.
    Malformed,
    /// The entropy-coded data ends before the frame is covered, or scans are missing.
    Truncated,
    /// The frame has more blocks than the configured image limits allow.
    TooLarge,
}

/// Frame geometry from the SOF header.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct JpegFrame {
    pub width: u32,
    pub height: u32,
    pub components: u8,
    pub progressive: bool,
}

const LUT_BITS: u32 = 9;
const MAX_COMPONENTS: usize = 4;

/// One Huffman table in canonical form plus a 9-bit lookup table.
#[derive(Clone)]
struct Huffman {
    present: bool,
    /// `(len << 8) | value` for codes of at most `LUT_BITS` bits, indexed by the next 9 bits.
    lut: [u16; 1 << LUT_BITS],
    /// Largest code of each length (−1: none), lengths 1..=16 at index 0..16.
    maxcode: [i32; 16],
    /// Index into `values` of the first code of each length, minus that code.
    offset: [i32; 16],
    values: [u8; 256],
}

impl Huffman {
    const EMPTY: Self = Self {
        present: false,
        lut: [0; 1 << LUT_BITS],
        maxcode: [-1; 16],
        offset: [0; 16],
        values: [0; 256],
    };

    /// Build from the 16 code-length counts and the symbol values of a DHT segment.
    fn build(&mut self, counts: &[u8], values: &[u8]) -> Result<(), JpegProblem> {
        self.present = false;
        self.lut = [0; 1 << LUT_BITS];
        self.maxcode = [-1; 16];
        let n = values.len().min(256);
        for (dst, src) in self.values.iter_mut().zip(values.iter().take(n)) {
            *dst = *src;
        }
        let mut code: i32 = 0;
        let mut index: i32 = 0;
        for (len_minus_1, &count) in counts.iter().enumerate().take(16) {
            let count = i32::from(count);
            let len = len_minus_1 as u32 + 1;
            if count > 0 {
                if let Some(o) = self.offset.get_mut(len_minus_1) {
                    *o = index - code;
                }
                for _ in 0..count {
                    // A code that does not fit in `len` bits: an over-full table.
                    if code >= (1 << len) {
                        return Err(JpegProblem::Malformed);
                    }
                    if len <= LUT_BITS {
                        let value = *self
                            .values
                            .get(index as usize)
                            .ok_or(JpegProblem::Malformed)?;
                        let shift = LUT_BITS - len;
                        let first = (code as usize) << shift;
                        let entry = ((len as u16) << 8) | u16::from(value);
                        for slot in self.lut.iter_mut().skip(first).take(1usize << shift) {
                            *slot = entry;
                        }
                    }
                    code += 1;
                    index += 1;
                }
                if let Some(m) = self.maxcode.get_mut(len_minus_1) {
                    *m = code - 1;
                }
            }
            code <<= 1;
        }
        if index as usize != values.len() {
            return Err(JpegProblem::Malformed);
        }
        self.present = true;
        Ok(())
    }

    /// Decode one symbol.
    fn decode(&self, bits: &mut Bits<'_>) -> Result<u8, JpegProblem> {
        let peek = bits.peek(16);
        let entry = self
            .lut
            .get((peek >> (16 - LUT_BITS)) as usize)
            .copied()
            .unwrap_or(0);
        if entry != 0 {
            bits.consume(u32::from(entry >> 8))?;
            return Ok((entry & 0xFF) as u8);
        }
        for len in (LUT_BITS + 1)..=16 {
            let code = (peek >> (16 - len)) as i32;
            let i = (len - 1) as usize;
            let max = self.maxcode.get(i).copied().unwrap_or(-1);
            if code <= max {
                bits.consume(len)?;
                let at = self.offset.get(i).copied().unwrap_or(0) + code;
                return self
                    .values
                    .get(usize::try_from(at).map_err(|_| JpegProblem::Malformed)?)
                    .copied()
                    .ok_or(JpegProblem::Malformed);
            }
        }
        if bits.overread() {
            Err(JpegProblem::Truncated)
        } else {
            Err(JpegProblem::Malformed)
        }
    }
}

/// An MSB-first bit reader over entropy-coded data, stopping at the first marker.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u64,
    /// Valid bits in `acc` (from real data).
    n: u32,
    /// A marker (or the end of the input) was reached.
    ended: bool,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            acc: 0,
            n: 0,
            ended: false,
        }
    }

    fn refill(&mut self) {
        while self.n <= 56 && !self.ended {
            match self.data.get(self.pos) {
                None => self.ended = true,
                Some(0xFF) => {
                    if self.data.get(self.pos.saturating_add(1)) == Some(&0x00) {
                        self.acc |= 0xFF << (56 - self.n);
                        self.n += 8;
                        self.pos = self.pos.saturating_add(2);
                    } else {
                        self.ended = true;
                    }
                }
                Some(&b) => {
                    self.acc |= u64::from(b) << (56 - self.n);
                    self.n += 8;
                    self.pos = self.pos.saturating_add(1);
                }
            }
        }
    }

    /// The next `k` (≤ 16) bits, zero-filled past the data.
    fn peek(&mut self, k: u32) -> u32 {
        self.refill();
        (self.acc >> (64 - k)) as u32
    }

    fn consume(&mut self, k: u32) -> Result<(), JpegProblem> {
        self.refill();
        if k > self.n {
            self.n = 0;
            return Err(JpegProblem::Truncated);
        }
        self.acc = self.acc.checked_shl(k).unwrap_or(0);
        self.n -= k;
        Ok(())
    }

    /// Read and drop `k` (≤ 16) bits.
    fn skip(&mut self, k: u32) -> Result<u32, JpegProblem> {
        if k == 0 {
            return Ok(0);
        }
        let v = self.peek(k);
        self.consume(k)?;
        Ok(v)
    }

    fn overread(&self) -> bool {
        self.ended && self.n < 16
    }

    /// At a restart interval's end: drop the padding bits, then step over the RSTn marker
    /// (stray bytes before it are skipped, as decoders resynchronise).
    fn restart(&mut self) -> Result<(), JpegProblem> {
        self.acc = 0;
        self.n = 0;
        loop {
            match (
                self.data.get(self.pos),
                self.data.get(self.pos.saturating_add(1)),
            ) {
                (Some(0xFF), Some(0xD0..=0xD7)) => {
                    self.pos = self.pos.saturating_add(2);
                    self.ended = false;
                    return Ok(());
                }
                (Some(0xFF), Some(0x00 | 0xFF)) => self.pos = self.pos.saturating_add(1),
                // Another marker, or the end: the interval's data ran out.
                (Some(0xFF), _) | (None, _) => return Err(JpegProblem::Truncated),
                (Some(_), _) => self.pos = self.pos.saturating_add(1),
            }
        }
    }

    /// Bytes of `data` consumed (up to where the next marker starts).
    fn end_of_data(&self) -> usize {
        let mut pos = self.pos;
        // Find the marker that ended the data (skipping stuffed bytes and RSTs).
        while let Some(&b) = self.data.get(pos) {
            if b == 0xFF {
                match self.data.get(pos.saturating_add(1)) {
                    Some(0x00) | Some(0xD0..=0xD7) => pos = pos.saturating_add(2),
                    Some(0xFF) => pos = pos.saturating_add(1),
                    _ => return pos,
                }
            } else {
                pos = pos.saturating_add(1);
            }
        }
        pos
    }
}

/// One frame component.
#[derive(Copy, Clone)]
struct Component {
    id: u8,
    h: u8,
    v: u8,
    /// Blocks across and down for a non-interleaved scan of this component.
    blocks_x: u32,
    blocks_y: u32,
    /// Coded by a complete sequential scan.
    coded: bool,
    /// Progressive: the best (lowest) successive-approximation bit seen per coefficient.
    al_min: [u8; 64],
}

/// The checker: Huffman tables and coefficient history reused across frames.
pub struct JpegScanCheck {
    dc: Box<[Huffman; 4]>,
    ac: Box<[Huffman; 4]>,
    /// Progressive images: for each component's blocks (non-interleaved order), a bit per
    /// zig-zag coefficient already known to be non-zero. `blocks_per_component` per component.
    nonzero: Vec<u64>,
    blocks_per_component: usize,
}

/// State of the frame being checked.
struct Frame {
    info: JpegFrame,
    comps: [Component; MAX_COMPONENTS],
    ncomp: usize,
    hmax: u32,
    vmax: u32,
    restart_interval: u32,
}

fn be16(data: &[u8], at: usize) -> Option<u16> {
    let b = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
}

fn ceil_div(a: u32, b: u32) -> u32 {
    if b == 0 {
        0
    } else {
        a.div_ceil(b)
    }
}

impl JpegScanCheck {
    /// Made once at start-up, for images within `limits`.
    pub fn new(limits: ImageLimits) -> Self {
        let blocks = (ceil_div(limits.max_width, 8) as usize)
            .saturating_mul(ceil_div(limits.max_height, 8) as usize);
        Self {
            nonzero: vec![0; blocks.saturating_mul(MAX_COMPONENTS)],
            blocks_per_component: blocks,
            dc: Box::new([
                Huffman::EMPTY,
                Huffman::EMPTY,
                Huffman::EMPTY,
                Huffman::EMPTY,
            ]),
            ac: Box::new([
                Huffman::EMPTY,
                Huffman::EMPTY,
                Huffman::EMPTY,
                Huffman::EMPTY,
            ]),
        }
    }

    /// The frame header alone (for size checks before anything else).
    pub fn frame(&mut self, jpeg: &[u8]) -> Result<JpegFrame, JpegProblem> {
        self.walk(jpeg, false)
    }

    /// Check that the scans cover the whole frame; returns its geometry.
    pub fn check(&mut self, jpeg: &[u8]) -> Result<JpegFrame, JpegProblem> {
        self.walk(jpeg, true)
    }

    fn walk(&mut self, jpeg: &[u8], scans: bool) -> Result<JpegFrame, JpegProblem> {
        use JpegProblem::{Malformed, Truncated};
        for t in self.dc.iter_mut().chain(self.ac.iter_mut()) {
            t.present = false;
        }
        if jpeg.get(..2) != Some(&[0xFF, 0xD8][..]) {
            return Err(Malformed);
        }
        let mut pos = 2usize;
        let mut frame: Option<Frame> = None;
        let mut restart_interval = 0u32;
        loop {
            // Find the next marker: decoders skip stray bytes between segments, and so does
            // this walk; running out of bytes before the end marker is a truncated image.
            while jpeg.get(pos).is_some_and(|&b| b != 0xFF) {
                pos = pos.saturating_add(1);
            }
            if pos >= jpeg.len() {
                return Err(Truncated);
            }
            while jpeg.get(pos) == Some(&0xFF) {
                pos = pos.saturating_add(1);
            }
            let marker = *jpeg.get(pos).ok_or(Truncated)?;
            pos = pos.saturating_add(1);
            match marker {
                0xD9 => break,
                0xD0..=0xD7 | 0x01 => continue,
                0xD8 | 0x00 => return Err(Malformed),
                _ => {}
            }
            let len = usize::from(be16(jpeg, pos).ok_or(Truncated)?);
            if len < 2 {
                return Err(Malformed);
            }
            let end = pos.checked_add(len).ok_or(Malformed)?;
            let seg = jpeg.get(pos.saturating_add(2)..end).ok_or(Truncated)?;
            pos = end;
            match marker {
                0xC0..=0xC2 => {
                    if frame.is_some() {
                        return Err(Malformed);
                    }
                    let f = parse_sof(seg, marker == 0xC2)?;
                    if !scans {
                        return Ok(f.info);
                    }
                    if f.info.progressive {
                        self.clear_history(&f)?;
                    }
                    frame = Some(f);
                }
                0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                    // Lossless, hierarchical or arithmetic: no decoder here reads them.
                    return Err(Malformed);
                }
                0xC4 => self.parse_dht(seg)?,
                0xDD => restart_interval = u32::from(be16(seg, 0).ok_or(Malformed)?),
                0xDA => {
                    let f = frame.as_mut().ok_or(Malformed)?;
                    f.restart_interval = restart_interval;
                    let data = jpeg.get(pos..).unwrap_or_default();
                    pos = pos.saturating_add(self.scan(f, seg, data)?);
                }
                _ => {}
            }
        }
        let f = frame.ok_or(Malformed)?;
        let comps = f.comps.get(..f.ncomp).unwrap_or_default();
        let complete = if f.info.progressive {
            comps.iter().all(|c| c.al_min.iter().all(|&a| a == 0))
        } else {
            comps.iter().all(|c| c.coded)
        };
        if complete {
            Ok(f.info)
        } else {
            Err(Truncated)
        }
    }

    /// Forget the coefficient history of the previous image (only the blocks this one has).
    fn clear_history(&mut self, f: &Frame) -> Result<(), JpegProblem> {
        for (i, c) in f.comps.iter().take(f.ncomp).enumerate() {
            let blocks = (c.blocks_x as usize).saturating_mul(c.blocks_y as usize);
            if blocks > self.blocks_per_component {
                return Err(JpegProblem::TooLarge);
            }
            let start = i.saturating_mul(self.blocks_per_component);
            if let Some(h) = self.nonzero.get_mut(start..start.saturating_add(blocks)) {
                h.fill(0);
            }
        }
        Ok(())
    }

    fn parse_dht(&mut self, seg: &[u8]) -> Result<(), JpegProblem> {
        let mut at = 0usize;
        while at < seg.len() {
            let tc_th = *seg.get(at).ok_or(JpegProblem::Malformed)?;
            let counts = seg
                .get(at.saturating_add(1)..at.saturating_add(17))
                .ok_or(JpegProblem::Malformed)?;
            let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
            if total > 256 {
                return Err(JpegProblem::Malformed);
            }
            let start = at.saturating_add(17);
            let values = seg
                .get(start..start.saturating_add(total))
                .ok_or(JpegProblem::Malformed)?;
            let table = match tc_th >> 4 {
                0 => self.dc.get_mut(usize::from(tc_th & 0x0F)),
                1 => self.ac.get_mut(usize::from(tc_th & 0x0F)),
                _ => None,
            }
            .ok_or(JpegProblem::Malformed)?;
            table.build(counts, values)?;
            at = start.saturating_add(total);
        }
        Ok(())
    }

    /// Decode one scan's symbols; returns the bytes of entropy-coded data it spans.
    fn scan(&mut self, f: &mut Frame, seg: &[u8], data: &[u8]) -> Result<usize, JpegProblem> {
        use JpegProblem::Malformed;
        let ns = usize::from(*seg.first().ok_or(Malformed)?);
        if ns == 0 || ns > MAX_COMPONENTS {
            return Err(Malformed);
        }
        // Scan components: (frame component index, dc table, ac table).
        let mut sel = [(0usize, 0usize, 0usize); MAX_COMPONENTS];
        for (i, slot) in sel.iter_mut().enumerate().take(ns) {
            let at = 1usize.saturating_add(i.saturating_mul(2));
            let id = *seg.get(at).ok_or(Malformed)?;
            let tables = *seg.get(at.saturating_add(1)).ok_or(Malformed)?;
            let ci = f
                .comps
                .iter()
                .take(f.ncomp)
                .position(|c| c.id == id)
                .ok_or(Malformed)?;
            *slot = (ci, usize::from(tables >> 4), usize::from(tables & 0x0F));
        }
        let tail = 1usize.saturating_add(ns.saturating_mul(2));
        let ss = *seg.get(tail).ok_or(Malformed)?;
        let se = *seg.get(tail.saturating_add(1)).ok_or(Malformed)?;
        let ahal = *seg.get(tail.saturating_add(2)).ok_or(Malformed)?;
        let (ah, al) = (ahal >> 4, ahal & 0x0F);
        let sel = sel.get(..ns).unwrap_or_default();
        let mut bits = Bits::new(data);
        let progressive = f.info.progressive;
        if progressive {
            if ss > se || se > 63 || (ss == 0 && se != 0) || (ss > 0 && ns != 1) || al > 13 {
                return Err(Malformed);
            }
            for &(ci, _, _) in sel {
                if let Some(c) = f.comps.get_mut(ci) {
                    for a in c
                        .al_min
                        .iter_mut()
                        .skip(usize::from(ss))
                        .take(usize::from(se - ss) + 1)
                    {
                        *a = (*a).min(al);
                    }
                }
            }
        } else if ss != 0 || se != 63 || ahal != 0 {
            return Err(Malformed);
        }
        let single = ns == 1;
        let (units_x, units_y) = match sel.first() {
            Some(&(ci, _, _)) if single => {
                let c = f.comps.get(ci).ok_or(Malformed)?;
                (c.blocks_x, c.blocks_y)
            }
            _ => (
                ceil_div(f.info.width, 8 * f.hmax),
                ceil_div(f.info.height, 8 * f.vmax),
            ),
        };
        let units = u64::from(units_x) * u64::from(units_y);
        // AC scans of a progressive image cover one component: its coefficient history.
        let history_start = sel.first().map_or(0, |&(ci, _, _)| {
            ci.saturating_mul(self.blocks_per_component)
        });
        let mut eobrun = 0u32;
        let mut since_restart = 0u32;
        let mut done = 0u64;
        while done < units {
            if f.restart_interval > 0 && since_restart == f.restart_interval {
                bits.restart()?;
                since_restart = 0;
                eobrun = 0;
            }
            for &(ci, dc_t, ac_t) in sel {
                let c = f.comps.get(ci).ok_or(Malformed)?;
                let blocks = if single {
                    1
                } else {
                    u32::from(c.h) * u32::from(c.v)
                };
                for _ in 0..blocks {
                    if !progressive {
                        self.sequential_block(&mut bits, dc_t, ac_t)?;
                    } else if ss == 0 {
                        if ah == 0 {
                            let s = self.table(true, dc_t)?.decode(&mut bits)?;
                            bits.skip(u32::from(s.min(16)))?;
                        } else {
                            bits.skip(1)?;
                        }
                    } else {
                        let at = history_start.saturating_add(done as usize);
                        let mut mask =
                            self.nonzero.get(at).copied().ok_or(JpegProblem::TooLarge)?;
                        if ah > 0 {
                            self.ac_refine_block(&mut bits, ac_t, ss, se, &mut eobrun, &mut mask)?;
                        } else if eobrun > 0 {
                            eobrun -= 1;
                        } else {
                            eobrun = self.ac_first_block(&mut bits, ac_t, ss, se, &mut mask)?;
                        }
                        if let Some(m) = self.nonzero.get_mut(at) {
                            *m = mask;
                        }
                    }
                }
            }
            done += 1;
            since_restart = since_restart.saturating_add(1);
        }
        if !progressive {
            for &(ci, _, _) in sel {
                if let Some(c) = f.comps.get_mut(ci) {
                    c.coded = true;
                }
            }
        }
        Ok(bits.end_of_data())
    }

    fn table(&self, dc: bool, i: usize) -> Result<&Huffman, JpegProblem> {
        let t = if dc { self.dc.get(i) } else { self.ac.get(i) };
        t.filter(|t| t.present).ok_or(JpegProblem::Malformed)
    }

    fn sequential_block(
        &self,
        bits: &mut Bits<'_>,
        dc: usize,
        ac: usize,
    ) -> Result<(), JpegProblem> {
        let s = self.table(true, dc)?.decode(bits)?;
        bits.skip(u32::from(s.min(16)))?;
        let ac = self.table(false, ac)?;
        let mut k = 1u32;
        while k < 64 {
            let rs = ac.decode(bits)?;
            let (r, s) = (u32::from(rs >> 4), u32::from(rs & 0x0F));
            if s == 0 {
                if r == 15 {
                    k += 16;
                    continue;
                }
                break;
            }
            k += r;
            bits.skip(s)?;
            k += 1;
        }
        // k past 63 is corrupt data; decoders stop the block there, and so does this check.
        Ok(())
    }

    /// One block of a first AC scan (marking its non-zero coefficients in `mask`); returns
    /// the EOB run that follows it.
    fn ac_first_block(
        &self,
        bits: &mut Bits<'_>,
        ac: usize,
        ss: u8,
        se: u8,
        mask: &mut u64,
    ) -> Result<u32, JpegProblem> {
        let ac = self.table(false, ac)?;
        let mut k = u32::from(ss);
        while k <= u32::from(se) {
            let rs = ac.decode(bits)?;
            let (r, s) = (u32::from(rs >> 4), u32::from(rs & 0x0F));
            if s == 0 {
                if r < 15 {
                    let extra = bits.skip(r)?;
                    return Ok((1u32 << r) - 1 + extra);
                }
                k += 16;
            } else {
                k += r;
                bits.skip(s)?;
                if k < 64 {
                    *mask |= 1u64 << k;
                }
                k += 1;
            }
        }
        Ok(0)
    }

    /// One block of a refinement AC scan: a correction bit for every coefficient already
    /// non-zero, new ±1 coefficients placed after runs of zero ones (ITU T.81 G.1.2.3, as
    /// libjpeg's `decode_mcu_AC_refine` reads it).
    fn ac_refine_block(
        &self,
        bits: &mut Bits<'_>,
        ac: usize,
        ss: u8,
        se: u8,
        eobrun: &mut u32,
        mask: &mut u64,
    ) -> Result<(), JpegProblem> {
        let se = u32::from(se).min(63);
        let mut k = u32::from(ss);
        let known = |mask: u64, k: u32| mask & (1u64 << k) != 0;
        if *eobrun == 0 {
            let table = self.table(false, ac)?;
            while k <= se {
                let rs = table.decode(bits)?;
                let mut r = u32::from(rs >> 4);
                let new_coefficient = rs & 0x0F != 0;
                if new_coefficient {
                    bits.skip(1)?; // its sign
                } else if r != 15 {
                    *eobrun = (1u32 << r) + bits.skip(r)?;
                    break;
                }
                while k <= se {
                    if known(*mask, k) {
                        bits.skip(1)?; // correction bit
                    } else if r == 0 {
                        break;
                    } else {
                        r -= 1;
                    }
                    k += 1;
                }
                if new_coefficient && k <= se {
                    *mask |= 1u64 << k;
                }
                k += 1;
            }
        }
        if *eobrun > 0 {
            while k <= se {
                if known(*mask, k) {
                    bits.skip(1)?;
                }
                k += 1;
            }
            *eobrun -= 1;
        }
        Ok(())
    }
}

fn parse_sof(seg: &[u8], progressive: bool) -> Result<Frame, JpegProblem> {
    use JpegProblem::Malformed;
    let precision = *seg.first().ok_or(Malformed)?;
    let height = u32::from(be16(seg, 1).ok_or(Malformed)?);
    let width = u32::from(be16(seg, 3).ok_or(Malformed)?);
    let ncomp = usize::from(*seg.get(5).ok_or(Malformed)?);
    if precision != 8 || width == 0 || height == 0 || ncomp == 0 || ncomp > MAX_COMPONENTS {
        return Err(Malformed);
    }
    let mut comps = [Component {
        id: 0,
        h: 1,
        v: 1,
        blocks_x: 0,
        blocks_y: 0,
        coded: false,
        al_min: [u8::MAX; 64],
    }; MAX_COMPONENTS];
    let (mut hmax, mut vmax) = (1u32, 1u32);
    for (i, c) in comps.iter_mut().enumerate().take(ncomp) {
        let at = 6usize.saturating_add(i.saturating_mul(3));
        c.id = *seg.get(at).ok_or(Malformed)?;
        let hv = *seg.get(at.saturating_add(1)).ok_or(Malformed)?;
        c.h = hv >> 4;
        c.v = hv & 0x0F;
        if !(1..=4).contains(&c.h) || !(1..=4).contains(&c.v) {
            return Err(Malformed);
        }
        hmax = hmax.max(u32::from(c.h));
        vmax = vmax.max(u32::from(c.v));
    }
    for c in comps.iter_mut().take(ncomp) {
        c.blocks_x = ceil_div(ceil_div(width * u32::from(c.h), hmax), 8);
        c.blocks_y = ceil_div(ceil_div(height * u32::from(c.v), vmax), 8);
    }
    Ok(Frame {
        info: JpegFrame {
            width,
            height,
            components: ncomp as u8,
            progressive,
        },
        comps,
        ncomp,
        hmax,
        vmax,
        restart_interval: 0,
    })
}
