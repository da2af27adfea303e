"""``colanet figures``: draw every figure a run directory supports."""

from __future__ import annotations


def register(sub):
    p = sub.add_parser("figures", help="draw the figures of a run directory (PNG, optionally PDF)",
                       description="Draw every figure that the saved data of a run supports (results.json, "
                                   "run_data.npz, model.npz, a GA log *.jsonl) and list the files; figures whose "
                                   "data is absent are skipped with the reason.")
    p.add_argument("run_dir", help="output directory of `colanet run`, `colanet continual` or a GA run")
    p.add_argument("-o", "--out", default=None, help="output directory (default: RUN_DIR/figures)")
    p.add_argument("--pdf", action="store_true", help="also write PDF files")
    p.add_argument("--image-shape", default=None, metavar="HxW",
                   help="pixel layout of the inputs, e.g. 28x28 (default: inferred from results.json)")
    p.add_argument("--ga-log", default=None, help="GA log (JSONL; default: searched in RUN_DIR)")
    p.set_defaults(func=main)


def _shape(text):
    try:
        shape = tuple(int(n) for n in text.lower().split("x"))
    except ValueError:
        shape = ()
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"--image-shape expects HxW, e.g. 28x28, got {text!r}")
    return shape


def main(args):
    from ..analysis.continual import draw_continual, is_continual_run
    from ..analysis.figures import draw_all, incomplete
    from ..analysis.rundata import load_run

    if is_continual_run(args.run_dir):  # `colanet continual` output: its own figures
        from pathlib import Path

        for path in draw_continual(args.run_dir, args.out or Path(args.run_dir) / "figures", pdf=args.pdf):
            print(path)
        return 0
    shape = _shape(args.image_shape) if args.image_shape else None
    run = load_run(args.run_dir, image_shape=shape, ga_log=args.ga_log)
    skipped = []
    files = draw_all(run, args.out, pdf=args.pdf, skipped=skipped)
    for path in files:
        print(path)
    for name, note in incomplete(run).items():
        print(f"note: {name} {note}")
    for name, reason in skipped:
        print(f"skipped {name}: {reason}")
    if not files:
        raise RuntimeError(f"no figure can be drawn from {args.run_dir}")
    return 0
