//! The run's plot, `pictures/training.png`: top-1 per epoch (the student, and the teacher as a
//! reference line) beside the generator and student losses per epoch, with labelled axes, tick
//! values and legends. Drawn with `plotters` into a buffer; the text uses the DejaVu Sans that
//! ships inside the binary, so a fresh machine without fonts draws the same picture.

use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{Context, Result};

use image::RgbImage;
use muse::engine::EpochMetrics;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

/// Arguments of `muse plot`.
#[derive(clap::Args)]
pub struct Args {
    /// The run directory (holding `metrics.jsonl`; `summary.json` supplies the teacher line).
    run: PathBuf,
}

/// Runs `muse plot`.
pub fn run(args: Args) -> Result<()> {
    let history = read_history(&args.run)?;
    let summary = args.run.join("summary.json");
    let teacher = std::fs::read(&summary)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["teacher_top1"].as_f64());
    let img = training_plot(&history, teacher)
        .map_err(anyhow::Error::msg)?
        .context("the run has no epoch yet")?;
    let out = args.run.join("pictures/training.png");
    std::fs::create_dir_all(args.run.join("pictures"))?;
    muse::engine::save_png(&img, &out)?;
    println!("wrote {}", out.display());
    Ok(())
}

/// The epoch records of the run in `run` (its `metrics.jsonl`), each line checked.
pub(crate) fn read_history(run: &Path) -> Result<Vec<EpochMetrics>> {
    let metrics = run.join("metrics.jsonl");
    let text = std::fs::read_to_string(&metrics).with_context(|| metrics.display().to_string())?;
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str::<EpochMetrics>(l)
                .with_context(|| format!("{}:{}: not an epoch record", metrics.display(), i + 1))
        })
        .collect()
}

const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const WIDTH: u32 = 1200;
const HEIGHT: u32 = 450;

pub(crate) fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font (checked by the test below); should they not be,
        // text is left out rather than the run stopped.
        let _ = register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// The plot of `history` (`teacher_top1`: the reference line), or `None` when nothing was
/// evaluated and no loss recorded yet.
pub fn training_plot(
    history: &[EpochMetrics],
    teacher_top1: Option<f64>,
) -> Result<Option<RgbImage>, String> {
    if history.is_empty() {
        return Ok(None);
    }
    register();
    let mut buf = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (left, right) = root.split_horizontally(WIDTH / 2);
        accuracy_panel(&left, history, teacher_top1).map_err(|e| e.to_string())?;
        loss_panel(&right, history).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(RgbImage::from_raw(WIDTH, HEIGHT, buf))
}

/// The legend box every plot of the CLI draws, at `position`.
pub(crate) fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", 14))
        .draw()
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;
type DrawResult =
    Result<(), DrawingAreaErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>>;

fn accuracy_panel(area: &Area, history: &[EpochMetrics], teacher: Option<f64>) -> DrawResult {
    let n = history.len();
    let mut chart = ChartBuilder::on(area)
        .caption("top-1 on the evaluation set", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(0.5f64..n as f64 + 0.5, 0f64..100f64)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("top-1 (%)")
        .x_labels(n.min(12))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_labels(11)
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()?;
    let student: Vec<(f64, f64)> = history
        .iter()
        .enumerate()
        .filter_map(|(e, m)| m.accuracy.map(|a| ((e + 1) as f64, 100.0 * a.top1)))
        .collect();
    let blue = RGBColor(30, 80, 200);
    let red = RGBColor(200, 30, 30);
    if let Some(t) = teacher {
        let t = 100.0 * t;
        chart
            .draw_series(DashedLineSeries::new(
                [(0.5, t), (n as f64 + 0.5, t)],
                8,
                6,
                red.stroke_width(2),
            ))?
            .label(format!("teacher {t:.2}%"))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], red.stroke_width(2)));
    }
    if !student.is_empty() {
        let last = student.last().map_or(0.0, |p| p.1);
        chart
            .draw_series(LineSeries::new(student.clone(), blue.stroke_width(2)))?
            .label(format!("student (last {last:.2}%)"))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], blue.stroke_width(2)));
        chart.draw_series(student.iter().map(|&p| Circle::new(p, 3, blue.filled())))?;
    }
    draw_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    Ok(())
}

fn loss_panel(area: &Area, history: &[EpochMetrics]) -> DrawResult {
    let n = history.len();
    // Per epoch: the generator's total loss (mean over resolutions) in epochs that generated,
    // and the student's KL and ED terms in epochs that trained it. Log scale: they differ by
    // orders of magnitude.
    let generator: Vec<(f64, f64)> = history
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.generator.is_empty())
        .map(|(e, m)| {
            let mean =
                m.generator.iter().map(|g| g.total as f64).sum::<f64>() / m.generator.len() as f64;
            ((e + 1) as f64, mean)
        })
        .collect();
    let student = |f: fn(&EpochMetrics) -> f32| -> Vec<(f64, f64)> {
        history
            .iter()
            .enumerate()
            .map(|(e, m)| ((e + 1) as f64, f(m) as f64))
            .filter(|&(_, v)| v > 0.0)
            .collect()
    };
    let kl = student(|m| m.student.kl);
    let ed = student(|m| m.student.ed);
    let positive: Vec<f64> = generator
        .iter()
        .chain(&kl)
        .chain(&ed)
        .map(|p| p.1)
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    let lo = positive.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = positive.iter().copied().fold(0.0, f64::max);
    let (lo, hi) = if positive.is_empty() {
        (0.01, 1.0)
    } else {
        (lo / 2.0, hi * 2.0)
    };
    let mut chart = ChartBuilder::on(area)
        .caption("losses per epoch", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(65)
        .build_cartesian_2d(0.5f64..n as f64 + 0.5, (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("loss (log scale)")
        .x_labels(n.min(12))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| match *y {
            y if y >= 10.0 => format!("{y:.0}"),
            y if y >= 1.0 => format!("{y:.1}"),
            y => format!("{y:.3}"),
        })
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()?;
    let series = [
        (
            "generator total (mean over resolutions)",
            generator,
            RGBColor(120, 60, 160),
        ),
        ("student KL", kl, RGBColor(20, 140, 80)),
        ("student ED", ed, RGBColor(220, 130, 20)),
    ];
    for (name, points, color) in series {
        if points.is_empty() {
            continue;
        }
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
    }
    draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_font_is_a_font_and_text_is_drawn() {
        assert!(register_font("check", FontStyle::Normal, FONT).is_ok());
        // A title drawn with it leaves dark pixels where an empty plot has none.
        register();
        let mut buf = vec![255u8; 200 * 60 * 3];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (200, 60)).into_drawing_area();
            root.draw_text(
                "top-1 (%) 85",
                &("sans-serif", 20).into_text_style(&root),
                (5, 20),
            )
            .unwrap();
            root.present().unwrap();
        }
        assert!(buf.iter().filter(|&&v| v < 100).count() > 100);
    }

    #[test]
    fn a_run_history_is_plotted_with_its_teacher_line() {
        let lines = [
            r#"{"epoch":0,"generator":[{"ce":6.1,"adv":0.0,"bn":29.3,"cam":0.0,"aed":0.0,"total":296.7}],"student":{"kl":0.0,"ed":0.0,"total":0.0},"lr":0.0,"pool":[300],"accuracy":{"top1":0.0997,"top5":0.5,"samples":10000},"seconds":1.0}"#,
            r#"{"epoch":1,"generator":[],"student":{"kl":2.4,"ed":0.1,"total":2.5},"lr":0.1,"pool":[600],"accuracy":{"top1":0.6026,"top5":0.98,"samples":10000},"seconds":1.0}"#,
            r#"{"epoch":2,"generator":[],"student":{"kl":1.2,"ed":0.1,"total":1.3},"lr":0.09,"pool":[600],"accuracy":{"top1":0.7083,"top5":0.99,"samples":10000},"seconds":1.0}"#,
        ];
        let history: Vec<EpochMetrics> = lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let img = training_plot(&history, Some(0.9334)).unwrap().unwrap();
        assert_eq!(img.dimensions(), (WIDTH, HEIGHT));
        // The teacher's dashed red line and the student's blue line are both there.
        let count = |c: [u8; 3]| img.pixels().filter(|p| p.0 == c).count();
        assert!(count([200, 30, 30]) > 100, "no teacher line");
        assert!(count([30, 80, 200]) > 100, "no student line");
        assert!(training_plot(&[], None).unwrap().is_none());
    }
}
