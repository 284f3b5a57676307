"""``python -m core train --recipe NAME --data ROOT``: train, resume, export (``core.training.loop``).

    python -m core train --recipe cifar10_lscat_skip --data ../shared/data/cifar10-jpeg --out runs/lscat
    python -m core train --resume --out runs/lscat
    torchrun --nproc_per_node=4 -m core train --recipe ... --out ...
    python -m core train --list-recipes
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys

import torch

from core import data as D
from core.cli.common import HelpFormatter
from core.nn.distributed import init_from_env, rank_world
from core.training.errors import TrainError, TrainingDiverged
from core.training.loop import train
from core.training.recipes import RecipeError, list_recipes, make_config


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m core train", formatter_class=HelpFormatter,
                                description="Train a model of the registry with a named recipe (core/recipes.py); "
                                            "writes config.json, log.jsonl, checkpoint.pt and final.json to --out.")
    add = p.add_argument
    add("--recipe", help="recipe name (see --list-recipes); not needed with --resume")
    add("--data", help="data root: CIFAR-10, Imagenette or an ImageFolder with train/ and test/ or val/ "
                       "(required unless --resume)")
    add("--out", help="output folder (default: runs/<recipe>)")
    add("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    add("--epochs", type=int, help="epochs (default: the recipe's)")
    add("--budget-s", type=float, help="fit the epochs to this many seconds of wall time "
                                       "(default: the recipe's budget_s, None in every recipe)")
    add("--batch-size", type=int, help="global batch size, split over DDP ranks (default: the recipe's)")
    add("--lr", type=float, help="peak learning rate (default: the recipe's)")
    add("--model", help="a core.models registry name (default: the recipe's)")
    add("--nonlinearity", help="mod, cst, ms, mc, tanh (scattering); relu, abs, thresh, tanh, pow (ResNets) "
                               "(default: the model's)")
    add("--seed", type=int, help="seed (default: the recipe's, 0)")
    add("--compile", action=argparse.BooleanOptionalAction, default=None,
        help="torch.compile the model (default: the recipe's; on in the GPU recipes)")
    add("--device", help="auto, cpu, cuda, cuda:1, ... (default: auto: cuda if available)")
    add("--download", action="store_true", help="let torchvision download CIFAR-10 / Imagenette")
    add("--set", action="append", default=[], metavar="KEY=JSON",
        help='any other config key, e.g. --set limit_train=5000 --set \'build={"widths": [8, 16]}\'')
    add("--stop-after", type=int, help="end this call after N epochs (resume later)")
    add("--export", metavar="NAME", help="write the final weights + card as pretrained entry NAME")
    add("--export-dir", help="folder for --export (default: pretrained/)")
    add("--no-progress", action="store_true", help="no progress bars (the per-epoch lines stay)")
    add("--list-recipes", action="store_true", help="print the recipes and exit")
    add("--show", action="store_true", help="print the resolved configuration and exit")
    return p.parse_args(argv)


def config_from_args(args) -> dict | None:
    over = {}
    for key, attr in (("data", "data"), ("epochs", "epochs"), ("budget_s", "budget_s"), ("batch_size", "batch_size"),
                      ("lr", "lr"), ("model", "model"), ("nonlinearity", "nonlinearity"), ("seed", "seed"),
                      ("compile", "compile"), ("device", "device")):
        if getattr(args, attr) is not None:
            over[key] = getattr(args, attr)
    if args.download:
        over["download"] = True
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise RecipeError(f"--set expects KEY=VALUE, got {item!r}")
        try:
            over[key] = json.loads(value)
        except json.JSONDecodeError:
            over[key] = value  # a bare string
    if args.recipe is None:
        if not args.resume:
            raise RecipeError("--recipe is required (or --resume with --out); see --list-recipes")
        if over:
            raise RecipeError("with --resume and no --recipe, the configuration comes from the checkpoint: "
                              "drop the overrides " + ", ".join(over))
        return None
    return make_config(args.recipe, **over)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.list_recipes:
        for name in list_recipes():
            cfg = make_config(name)
            print(f"{name:30s} {cfg['model']:22s} {cfg['dataset']:10s} {cfg['epochs']:4d} epochs, batch "
                  f"{cfg['batch_size']}, lr {cfg['lr']}")
        return 0
    started, rank = False, 0
    try:
        cfg = config_from_args(args)
        if args.show:
            print(json.dumps(cfg, indent=2))
            return 0
        out = args.out or (f"runs/{args.recipe}" if args.recipe else None)
        if out is None:
            raise RecipeError("--resume needs --out")
        if args.stop_after is not None and args.stop_after < 1:
            raise RecipeError("--stop-after must be >= 1")
        started = init_from_env()
        rank = rank_world()[0]
        args_text = shlex.join(argv if argv is not None else sys.argv[1:])
        world = int(os.environ.get("WORLD_SIZE", "1"))
        launcher = f"torchrun --nproc_per_node={world} -m core train" if world > 1 else "python -m core train"
        command = f"{launcher} {args_text}"
        final = train(cfg, out, resume=args.resume, stop_after=args.stop_after, progress=not args.no_progress,
                      command=command, export=args.export, export_dir=args.export_dir)
    except TrainingDiverged as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    except torch.OutOfMemoryError:
        print("error: out of GPU memory; lower --batch-size (the lr scales with it) or use a narrower model",
              file=sys.stderr)
        return 2
    except (TrainError, RecipeError, D.DataError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; continue with --resume --out <dir> (from its last checkpoint: an epoch end, or at "
              "most checkpoint_every_s seconds back)", file=sys.stderr)
        return 130
    finally:
        if started:
            torch.distributed.destroy_process_group()
    if rank == 0 and final is not None:
        if final.get("stopped"):
            print(f"stopped after {final['epochs_done']}/{final['epochs']} epochs; continue with --resume --out {out}")
        else:
            print(f"final: top-1 {100 * final['top1']:.2f}%  top-5 {100 * final['top5']:.2f}%  "
                  f"{final['epochs']} epochs  {final['wall_s']:.0f} s  {final['train_img_s_median']:.0f} img/s")
            print(json.dumps({k: final[k] for k in ("top1", "top5", "epochs", "wall_s", "train_img_s_median",
                                                    "shift_consistency")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
