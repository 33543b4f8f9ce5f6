//! JPEG/PNG bytes → the bounded decoder (header sizes checked first, JPEG scan coverage,
//! PNG colour profiles skipped). Nothing may panic or grow the pooled buffer; an accepted image
//! is within the limits and fills exactly width × height × channels bytes; what the header
//! declares is what is decoded.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use redline::preprocess::CompressedDecoder;

thread_local! {
    static STATE: std::cell::RefCell<(CompressedDecoder, Vec<u8>, usize)> = std::cell::RefCell::new({
        let decoder = CompressedDecoder::new(common::LIMITS);
        let buf = Vec::with_capacity(decoder.buffer_capacity());
        let cap = buf.capacity();
        (decoder, buf, cap)
    });
}

fuzz_target!(|data: &[u8]| {
    STATE.with(|state| {
        let (decoder, buf, cap) = &mut *state.borrow_mut();
        let header = decoder.header(data);
        if let Ok(view) = decoder.decode(data, buf) {
            assert!(view.width() <= common::LIMITS.max_width);
            assert!(view.height() <= common::LIMITS.max_height);
            let declared = header.expect("a decoded image has a header");
            assert_eq!((view.width(), view.height()), (declared.width, declared.height));
            assert_eq!(
                view.data().len(),
                view.width() as usize * view.height() as usize * view.encoding().bytes_per_pixel()
            );
        }
        assert_eq!(buf.capacity(), *cap, "the pooled buffer never grows");
    });
});
