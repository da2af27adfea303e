"""``colanet params``: list every hyperparameter, or write a parameter file."""

from __future__ import annotations


def register(sub):
    p = sub.add_parser("params", help="list hyperparameters (spec section, default, GA range) or write a JSON file")
    p.add_argument("--params", default=None, help="parameter file or named set to show (default: built-in)")
    p.add_argument("-o", "--output", default=None, help="write the parameters to this JSON file")
    p.set_defaults(func=main)


def main(args):
    from ..model.params import load_params, param_info

    params = load_params(args.params)
    if args.output:
        params.to_json(args.output)
        print(f"parameters written to {args.output}")
        return 0
    print(f"{'name':<24} {'value':>12}  {'spec':<10} {'GA range':<18} meaning")
    for row in param_info():
        value = getattr(params, row["name"])
        ga = "" if row["ga"] is None else f"{row['ga'][0]} .. {row['ga'][1]}" + (" (log)" if row["log"] else "")
        print(f"{row['name']:<24} {str(value):>12}  {row['section']:<10} {ga:<18} {row['doc']}")
    return 0
