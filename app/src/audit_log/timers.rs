//! Browser timers (gloo-timers). On the server, where handlers and effects never run, they are inert
//! stand-ins, so the components compile unchanged for both.

#[cfg(feature = "hydrate")]
pub use gloo_timers::callback::Interval;

#[cfg(not(feature = "hydrate"))]
pub struct Interval;

#[cfg(not(feature = "hydrate"))]
impl Interval {
    pub fn new<F: FnMut() + 'static>(_millis: u32, _callback: F) -> Self {
        Interval
    }
}
