//! The Firefox Profiler's processed profile format, via `fxprof-processed-profile` (the crate
//! samply writes it with): one process, one thread track per sampled thread with its samples
//! on the timeline, frames named by function. speedscope opens the same file.

use std::collections::HashMap;

use fxprof_processed_profile::{
    CategoryHandle, CpuDelta, Frame, FrameFlags, FrameInfo, Profile, ReferenceTimestamp, SamplingInterval,
    Timestamp,
};

use super::CpuProfile;
use crate::ProfileError;

pub(super) fn to_json(p: &CpuProfile, product: &str) -> Result<Vec<u8>, ProfileError> {
    let t = &p.timeline;
    let interval = t.interval_ns.max(1);
    let mut profile = Profile::new(
        product,
        ReferenceTimestamp::from_millis_since_unix_epoch(t.start_unix_ms),
        SamplingInterval::from_nanos(interval),
    );
    let at = |ns: u64| Timestamp::from_nanos_since_reference(ns.saturating_sub(t.start_ns));
    let process = profile.add_process(product, std::process::id(), at(t.start_ns));
    let mut tracks = HashMap::new();
    for (i, (tid, name)) in t.threads.iter().enumerate() {
        let th = profile.add_thread(process, *tid as u32, at(t.start_ns), i == 0);
        profile.set_thread_name(th, name);
        tracks.insert(*tid, th);
    }
    // Stacks are interned per thread.
    let mut interned = HashMap::new();
    for s in &t.samples {
        let Some(&th) = tracks.get(&s.tid) else { continue };
        let stack = match interned.get(&(s.tid, s.stack)) {
            Some(&h) => h,
            None => {
                let names: Vec<_> =
                    t.stacks[s.stack].iter().map(|f| profile.intern_string(&f.function)).collect();
                let frames = names.into_iter().map(|n| FrameInfo {
                    frame: Frame::Label(n),
                    category_pair: CategoryHandle::OTHER.into(),
                    flags: FrameFlags::empty(),
                });
                let h = profile.intern_stack_frames(th, frames);
                interned.insert((s.tid, s.stack), h);
                h
            }
        };
        let time = if s.time_ns == 0 { t.start_ns } else { s.time_ns };
        profile.add_sample(th, at(time), stack, CpuDelta::from_nanos(interval * s.weight), s.weight as i32);
    }
    serde_json::to_vec(&profile).map_err(|e| ProfileError::Profiler(format!("Firefox profile: {e}")))
}
