//! A progress-bar observer. Where stderr is not a terminal (a log file, CI) the bars are
//! hidden, so each finished phase prints one line instead: a background run still shows
//! progress.

use indicatif::{ProgressBar, ProgressStyle};
use muse::engine::Observer;

/// Shows each phase of the engine as a progress bar with ETA and the running loss.
#[derive(Default)]
pub struct Bars {
    bar: Option<ProgressBar>,
    name: String,
    loss_sum: f64,
    steps: usize,
}

impl Observer for Bars {
    fn phase_started(&mut self, name: &str, steps: usize) {
        let bar = ProgressBar::new(steps as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>12} [{bar:30}] {pos}/{len} {elapsed}<{eta} {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(name.to_string());
        self.bar = Some(bar);
        self.name = name.to_string();
        self.loss_sum = 0.0;
        self.steps = 0;
    }

    fn step(&mut self, loss: Option<f32>) {
        if let Some(bar) = &self.bar {
            if let Some(l) = loss {
                self.loss_sum += l as f64;
                self.steps += 1;
                bar.set_message(format!("loss {:.4}", self.loss_sum / self.steps as f64));
            }
            bar.inc(1);
        }
    }

    fn phase_finished(&mut self) {
        if let Some(bar) = self.bar.take() {
            if bar.is_hidden() && bar.position() > 0 {
                let loss = match self.steps {
                    0 => String::new(),
                    n => format!(", mean loss {:.4}", self.loss_sum / n as f64),
                };
                let n = bar.position();
                eprintln!(
                    "{}: {n} step{}{loss} ({:.0} s)",
                    self.name,
                    if n == 1 { "" } else { "s" },
                    bar.elapsed().as_secs_f64()
                );
            }
            // The run's own per-epoch line stays; the finished bar goes.
            bar.finish_and_clear();
        }
    }

    fn message(&mut self, text: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{text}")),
            None => eprintln!("{text}"),
        }
    }
}
