//! The convolutions of a WRN-16-1 student step at 28 px × 128 (`--net wrn`, the default), or of
//! the default generator (ngf 64) at 20 px × 100 or 28 px × 50 (`--net generator20`,
//! `--net generator28`), one pass at a time: forward, input gradient and weight gradient of
//! every distinct layer shape, timed with warm-up and medians on `muse-kernels` directly (no
//! autodiff, no allocation of the operands inside the timing). Its PyTorch twin is
//! `scripts/bench_convs.py` (oneDNN through `F.conv2d` and `aten::convolution_backward`), so
//! each pass can be compared with oneDNN's.
//!
//! ```text
//! cargo bench --bench convs -- [--net wrn|generator20|generator28] [--iters 10] [--warmup 2]
//!                              [--batch N] [--json]
//! ```

#![allow(missing_docs)]

use std::time::Instant;

use muse_kernels::ConvGeometry;
use muse_kernels::conv::{forward, grad_input, grad_weight};

/// The CLI's allocator and its settings, as a run has them.
#[path = "../crates/muse-cli/src/alloc.rs"]
mod alloc;

/// One layer shape of WRN-16-1 and how many layers have it.
struct Shape {
    name: &'static str,
    in_channels: usize,
    out_channels: usize,
    side: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    layers: usize,
}

const fn shape(
    name: &'static str,
    (in_channels, out_channels): (usize, usize),
    side: usize,
    (kernel, stride, padding): (usize, usize, usize),
    layers: usize,
) -> Shape {
    Shape {
        name,
        in_channels,
        out_channels,
        side,
        kernel,
        stride,
        padding,
        layers,
    }
}

/// WRN-16-1's layers at 28 px; `scripts/bench_convs.py` repeats every list.
const WRN: [Shape; 8] = [
    shape("stem 1→16 28px", (1, 16), 28, (3, 1, 1), 1),
    shape("16→16 28px", (16, 16), 28, (3, 1, 1), 4),
    shape("16→32 28→14px s2", (16, 32), 28, (3, 2, 1), 1),
    shape("32→32 14px", (32, 32), 14, (3, 1, 1), 3),
    shape("32→64 14→7px s2", (32, 64), 14, (3, 2, 1), 1),
    shape("64→64 7px", (64, 64), 7, (3, 1, 1), 3),
    shape("shortcut 16→32 1×1 s2", (16, 32), 28, (1, 2, 0), 1),
    shape("shortcut 32→64 1×1 s2", (32, 64), 14, (1, 2, 0), 1),
];

/// The default generator's convolutions (ngf 64) at 20 px.
const GENERATOR20: [Shape; 3] = [
    shape("gen 128→128 10px", (128, 128), 10, (3, 1, 1), 1),
    shape("gen 128→64 20px", (128, 64), 20, (3, 1, 1), 1),
    shape("gen 64→1 20px", (64, 1), 20, (3, 1, 1), 1),
];

/// The default generator's convolutions (ngf 64) at 28 px.
const GENERATOR28: [Shape; 3] = [
    shape("gen 128→128 14px", (128, 128), 14, (3, 1, 1), 1),
    shape("gen 128→64 28px", (128, 64), 28, (3, 1, 1), 1),
    shape("gen 64→1 28px", (64, 1), 28, (3, 1, 1), 1),
];

fn median(warmup: usize, iters: usize, mut f: impl FnMut() -> f32) -> f64 {
    let mut sink = 0.0;
    for _ in 0..warmup {
        sink += f();
    }
    let mut ms: Vec<f64> = (0..iters.max(1))
        .map(|_| {
            let t = Instant::now();
            sink += f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    std::hint::black_box(sink);
    ms.sort_by(f64::total_cmp);
    ms[ms.len() / 2]
}

/// Deterministic values in [-1, 1) (a linear congruential sequence; the values do not matter).
fn values(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1u32 << 23) as f32 - 1.0
        })
        .collect()
}

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

fn main() {
    alloc::keep_freed_memory();
    let args: Vec<String> = std::env::args().collect();
    let net = args
        .iter()
        .position(|a| a == "--net")
        .and_then(|i| args.get(i + 1))
        .map_or("wrn", String::as_str);
    let (shapes, default_batch, label): (&[Shape], usize, &str) = match net {
        "wrn" => (&WRN, 128, "WRN-16-1"),
        "generator20" => (&GENERATOR20, 100, "generator (20 px)"),
        "generator28" => (&GENERATOR28, 50, "generator (28 px)"),
        other => panic!("--net {other}: wrn, generator20 or generator28"),
    };
    let (iters, warmup, batch) = (
        arg(&args, "--iters", 10),
        arg(&args, "--warmup", 2),
        arg(&args, "--batch", default_batch),
    );
    let json = args.iter().any(|a| a == "--json");
    let mut total = [0.0; 3];
    for &Shape {
        name,
        in_channels: c,
        out_channels: o,
        side,
        kernel: k,
        stride,
        padding: pad,
        layers,
    } in shapes
    {
        let g = ConvGeometry {
            batch,
            in_channels: c,
            height: side,
            width: side,
            out_channels: o,
            kernel: [k, k],
            stride: [stride, stride],
            padding: [(pad, pad), (pad, pad)],
            dilation: [1, 1],
        };
        let [oh, ow] = g.output_size().expect("a valid geometry");
        let x = values(batch * c * side * side, 1);
        let w = values(o * c * k * k, 2);
        let dy = values(batch * o * oh * ow, 3);
        let ms = [
            median(warmup, iters, || forward(&g, &x, &w)[0]),
            median(warmup, iters, || grad_input(&g, &w, &dy)[0]),
            median(warmup, iters, || grad_weight(&g, &x, &dy)[0]),
        ];
        for (t, m) in total.iter_mut().zip(ms) {
            *t += m * layers as f64;
        }
        if json {
            println!(
                "{{\"impl\":\"muse-kernels\",\"shape\":\"{name}\",\"layers\":{layers},\"batch\":{batch},\"forward_ms\":{:.3},\"grad_input_ms\":{:.3},\"grad_weight_ms\":{:.3}}}",
                ms[0], ms[1], ms[2]
            );
        } else {
            println!(
                "{name:20} ×{layers}  forward {:8.2} ms  grad_input {:8.2} ms  grad_weight {:8.2} ms",
                ms[0], ms[1], ms[2]
            );
        }
    }
    if !json {
        println!(
            "one {label} pass over all layers at batch {batch}: forward {:.1} ms, grad_input {:.1} ms, grad_weight {:.1} ms",
            total[0], total[1], total[2]
        );
    }
}
