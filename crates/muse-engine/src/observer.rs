//! Progress reporting: the engine emits events, the caller decides how to show them (progress
//! bar, log file, JSON lines). The engine never prints.

/// Receives progress events. Every method has an empty default.
pub trait Observer {
    /// A phase of `steps` steps begins (`"train"`, `"eval"`, ...).
    fn phase_started(&mut self, _name: &str, _steps: usize) {}
    /// One step of the current phase is done; `loss` where the phase has one.
    fn step(&mut self, _loss: Option<f32>) {}
    /// The current phase ended.
    fn phase_finished(&mut self) {}
    /// A free-form message for the log (one line).
    fn message(&mut self, _text: &str) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Observer for Silent {}
