//! `muse compare`: runs side by side. One picture of top-1 against wall-clock time (every
//! run's epochs at their cumulative seconds), and a Markdown table with each run's final and
//! best top-1, its wall time, and its top-1 at one wall time shared by all (by default the
//! shortest run's: the "equal wall time" column of a method comparison).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use image::RgbImage;
use muse::engine::EpochMetrics;
use plotters::prelude::*;

use crate::plots::{draw_legend, read_history, register};

/// Arguments of `muse compare`.
#[derive(clap::Args)]
pub struct Args {
    /// Run directories (each holding `metrics.jsonl`).
    #[arg(required = true, num_args = 1..)]
    runs: Vec<PathBuf>,
    /// Names for the legend and the table, comma-separated, one per run (default: the
    /// directories' names).
    #[arg(long, value_delimiter = ',')]
    names: Vec<String>,
    /// Wall time in seconds at which every run's top-1 is read (default: the shortest run's).
    #[arg(long)]
    at: Option<f64>,
    /// Where to write the picture (PNG); without it only the table is printed.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// One run's evaluated epochs as (cumulative seconds, top-1 in %), and its total seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub wall: f64,
}

/// Runs `muse compare`.
pub fn run(args: Args) -> Result<()> {
    if !args.names.is_empty() && args.names.len() != args.runs.len() {
        bail!(
            "--names has {} names for {} runs",
            args.names.len(),
            args.runs.len()
        );
    }
    let curves = args
        .runs
        .iter()
        .enumerate()
        .map(|(i, run)| {
            let name = args.names.get(i).cloned().unwrap_or_else(|| {
                run.file_name()
                    .map_or_else(|| run.display().to_string(), |n| n.to_string_lossy().into())
            });
            let history = read_history(run)?;
            curve(name, &history).with_context(|| run.display().to_string())
        })
        .collect::<Result<Vec<_>>>()?;
    let at = match args.at {
        Some(t) if t.is_finite() && t > 0.0 => t,
        Some(t) => bail!("--at must be a positive number of seconds, got {t}"),
        None => curves.iter().map(|c| c.wall).fold(f64::INFINITY, f64::min),
    };
    print!("{}", table(&curves, at));
    if let Some(out) = args.out {
        let img = picture(&curves, at).map_err(anyhow::Error::msg)?;
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        muse::engine::save_png(&img, &out)?;
        println!("wrote {}", out.display());
    }
    Ok(())
}

/// The curve of one run's history. A non-finite accuracy or time is an error, not a point.
pub fn curve(name: String, history: &[EpochMetrics]) -> Result<Curve> {
    let mut wall = 0.0;
    let mut points = Vec::new();
    for m in history {
        if !m.seconds.is_finite() || m.seconds < 0.0 {
            bail!("epoch {} records {} seconds", m.epoch, m.seconds);
        }
        wall += m.seconds;
        if let Some(a) = m.accuracy {
            if !a.top1.is_finite() {
                bail!("epoch {} records top-1 {}", m.epoch, a.top1);
            }
            points.push((wall, 100.0 * a.top1));
        }
    }
    if points.is_empty() {
        bail!("no evaluated epoch");
    }
    Ok(Curve { name, points, wall })
}

/// Top-1 of the last epoch evaluated by `t` seconds (`None` if none was). Times are compared
/// at the table's printed precision (0.1 s), so a wall time copied from the table as `--at`
/// reads that run's own last epoch.
pub fn top1_at(points: &[(f64, f64)], t: f64) -> Option<f64> {
    points
        .iter()
        .take_while(|(s, _)| *s < t + 0.05)
        .last()
        .map(|p| p.1)
}

/// The Markdown table: final, best, wall and top-1 at `at` seconds per run.
pub fn table(curves: &[Curve], at: f64) -> String {
    let mut s = format!(
        "| run | epochs | final top-1 | best top-1 | wall (s) | top-1 at {at:.1} s |\n|---|---|---|---|---|---|\n"
    );
    for c in curves {
        let last = c.points.last().map_or(f64::NAN, |p| p.1);
        let best = c.points.iter().map(|p| p.1).fold(f64::MIN, f64::max);
        let at_t = top1_at(&c.points, at).map_or("–".into(), |v| format!("{v:.2}"));
        s += &format!(
            "| {} | {} | {last:.2} | {best:.2} | {:.1} | {at_t} |\n",
            c.name,
            c.points.len(),
            c.wall
        );
    }
    s
}

const WIDTH: u32 = 900;
const HEIGHT: u32 = 520;
/// One colour per run, in order (then repeated).
const COLOURS: [RGBColor; 8] = [
    RGBColor(30, 80, 200),
    RGBColor(200, 30, 30),
    RGBColor(20, 140, 60),
    RGBColor(230, 130, 0),
    RGBColor(130, 50, 170),
    RGBColor(0, 150, 170),
    RGBColor(120, 90, 40),
    RGBColor(90, 90, 90),
];

/// Top-1 (%) against wall time (minutes), one line per run, with a dotted line at `at`.
pub fn picture(curves: &[Curve], at: f64) -> Result<RgbImage, String> {
    register();
    let x_max = curves.iter().map(|c| c.wall).fold(0.0, f64::max) / 60.0 * 1.02;
    let mut buf = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption("top-1 against wall-clock time", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(0f64..x_max.max(1e-3), 0f64..100f64)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("wall time (min)")
            .y_desc("top-1 (%)")
            .y_labels(11)
            .y_label_formatter(&|y| format!("{y:.0}"))
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .draw()
            .map_err(|e| e.to_string())?;
        let grey = RGBColor(150, 150, 150);
        chart
            .draw_series(DashedLineSeries::new(
                [(at / 60.0, 0.0), (at / 60.0, 100.0)],
                4,
                4,
                grey.stroke_width(1),
            ))
            .map_err(|e| e.to_string())?
            .label(format!("compared at {at:.1} s"))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], grey.stroke_width(1)));
        for (i, c) in curves.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let pts: Vec<(f64, f64)> = c.points.iter().map(|&(s, a)| (s / 60.0, a)).collect();
            let last = pts.last().map_or(0.0, |p| p.1);
            chart
                .draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(format!("{} (last {last:.2}%)", c.name))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                .map_err(|e| e.to_string())?;
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    RgbImage::from_raw(WIDTH, HEIGHT, buf).ok_or_else(|| "picture buffer size".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(epoch: usize, seconds: f64, top1: Option<f64>) -> EpochMetrics {
        let acc = top1.map_or("null".into(), |t| {
            format!(r#"{{"top1":{t},"top5":0.9,"samples":100}}"#)
        });
        serde_json::from_str(&format!(
            r#"{{"epoch":{epoch},"generator":[],"student":{{"kl":0.0,"ed":0.0,"total":0.0}},"lr":0.1,"pool":[10],"accuracy":{acc},"seconds":{seconds}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn epochs_sit_at_their_cumulative_seconds_and_are_read_at_a_shared_wall_time() {
        let a = curve(
            "a".into(),
            &[
                epoch(0, 10.0, Some(0.1)),
                epoch(1, 20.0, None),
                epoch(2, 5.0, Some(0.5)),
            ],
        )
        .unwrap();
        assert_eq!(a.points, vec![(10.0, 10.0), (35.0, 50.0)]);
        assert_eq!(a.wall, 35.0);
        assert_eq!(top1_at(&a.points, 9.9), None);
        assert_eq!(top1_at(&a.points, 34.0), Some(10.0));
        assert_eq!(top1_at(&a.points, 35.0), Some(50.0));
        // A wall of 35.04 s is printed "35.0": that printed value reads the run's last epoch,
        // and 34.9 s (before it) does not.
        let printed = [(10.0, 10.0), (35.04, 50.0)];
        assert_eq!(top1_at(&printed, 35.0), Some(50.0));
        assert_eq!(top1_at(&printed, 34.9), Some(10.0));
        let b = curve(
            "b".into(),
            &[epoch(0, 30.0, Some(0.25)), epoch(1, 30.0, Some(0.75))],
        )
        .unwrap();
        // Shared time = the shortest wall (a's 35 s): b has finished one epoch by then.
        let t = table(&[a, b], 35.0);
        assert!(
            t.contains("| a | 2 | 50.00 | 50.00 | 35.0 | 50.00 |"),
            "{t}"
        );
        assert!(
            t.contains("| b | 2 | 75.00 | 75.00 | 60.0 | 25.00 |"),
            "{t}"
        );
    }

    #[test]
    fn a_nan_accuracy_or_an_unevaluated_run_is_an_error() {
        let mut m = epoch(0, 1.0, Some(0.5));
        if let Some(a) = m.accuracy.as_mut() {
            a.top1 = f64::NAN;
        }
        let nan = curve("n".into(), &[m]);
        assert!(nan.unwrap_err().to_string().contains("top-1 NaN"));
        let none = curve("n".into(), &[epoch(0, 1.0, None)]);
        assert!(none.unwrap_err().to_string().contains("no evaluated epoch"));
        let neg = curve("n".into(), &[epoch(0, -1.0, Some(0.5))]);
        assert!(neg.unwrap_err().to_string().contains("-1 seconds"));
    }

    #[test]
    fn every_run_is_drawn_in_its_own_colour() {
        let a = curve(
            "a".into(),
            &[epoch(0, 60.0, Some(0.2)), epoch(1, 60.0, Some(0.6))],
        )
        .unwrap();
        let b = curve(
            "b".into(),
            &[epoch(0, 90.0, Some(0.3)), epoch(1, 90.0, Some(0.4))],
        )
        .unwrap();
        let img = picture(&[a, b], 120.0).unwrap();
        assert_eq!(img.dimensions(), (WIDTH, HEIGHT));
        for c in &COLOURS[..2] {
            let n = img.pixels().filter(|p| p.0 == [c.0, c.1, c.2]).count();
            assert!(n > 100, "colour {c:?} drawn {n} times");
        }
        let third = COLOURS[2];
        assert!(!img.pixels().any(|p| p.0 == [third.0, third.1, third.2]));
    }
}
