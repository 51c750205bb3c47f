"""Op-level trace of one HF transformers forward pass (batch 8 x seq 2048) on the meta device.

Logs every aten op: name, FLOPs (FlopCounterMode registry), bytes read (unique input storages' viewed bytes)
and bytes written (outputs), dtypes; tracks live activation bytes via tensor lifetimes (weakref finalizers)
to find the peak working set.  Writes traces/<model>.json.
"""
import json, sys, weakref, collections
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry
from torch.utils._pytree import tree_flatten
import transformers
from transformers import OPTConfig, LlamaConfig, AutoModelForCausalLM

B, S = 8, 2048

_AC = torch.autocast
class _autocast(_AC):
    def __init__(self, device_type, *a, **k):
        super().__init__("cpu" if device_type == "meta" else device_type, *a, **k)
torch.autocast = _autocast

MODELS = {
    "facebook/opt-1.3b": ("opt", dict(hidden_size=2048, num_hidden_layers=24, num_attention_heads=32, ffn_dim=8192,
                                     vocab_size=50272, max_position_embeddings=2048, word_embed_proj_dim=2048)),
    "facebook/opt-6.7b": ("opt", dict(hidden_size=4096, num_hidden_layers=32, num_attention_heads=32, ffn_dim=16384,
                                     vocab_size=50272, max_position_embeddings=2048, word_embed_proj_dim=4096)),
    "AICrossSim/clm-60m": ("llama", dict(hidden_size=384, num_hidden_layers=22, num_attention_heads=6, num_key_value_heads=2, intermediate_size=1408)),
    "AICrossSim/clm-200m": ("llama", dict(hidden_size=768, num_hidden_layers=24, num_attention_heads=12, num_key_value_heads=4, intermediate_size=2688)),
    "AICrossSim/clm-400m": ("llama", dict(hidden_size=960, num_hidden_layers=30, num_attention_heads=15, num_key_value_heads=5, intermediate_size=3328)),
    "AICrossSim/clm-1.1b": ("llama", dict(hidden_size=1536, num_hidden_layers=32, num_attention_heads=24, num_key_value_heads=8, intermediate_size=5376)),
}


def build(name):
    arch, kw = MODELS[name]
    if arch == "opt":
        cfg = OPTConfig(do_layer_norm_before=True, activation_function="relu", tie_word_embeddings=True, **kw)
    else:
        cfg = LlamaConfig(vocab_size=49152, max_position_embeddings=131072, tie_word_embeddings=False,
                          hidden_act="silu", rms_norm_eps=1e-5, rope_theta=10000.0,
                          rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                                            original_max_position_embeddings=8192), **kw)
    cfg._attn_implementation = "sdpa"
    with torch.device("meta"):
        m = AutoModelForCausalLM.from_config(cfg, torch_dtype=torch.float16, attn_implementation="sdpa")
    m.eval()
    return m


def nbytes(t):
    return t.numel() * t.element_size()


class Tracer(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.ops = []
        self.live = {}        # storage key -> [nbytes, refcount]
        self.cur = 0
        self.peak = 0
        self.peak_at = None
        self.param_keys = set()

    def _key(self, t):
        return t.untyped_storage()._cdata

    def _release(self, key):
        ent = self.live.get(key)
        if ent is None:
            return
        ent[1] -= 1
        if ent[1] == 0:
            self.cur -= ent[0]
            del self.live[key]

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in (torch.ops.aten._local_scalar_dense.default, torch.ops.aten.is_nonzero.default):
            return True   # data-dependent checks (all-ones mask, packed sequences): take the no-padding branch
        out = func(*args, **kwargs)
        ins = [a for a in tree_flatten((args, kwargs))[0] if isinstance(a, torch.Tensor)]
        outs = [o for o in tree_flatten(out)[0] if isinstance(o, torch.Tensor)]
        pk = func._overloadpacket
        flops = 0
        if pk is torch.ops.aten.linear:
            flops = 2 * outs[0].numel() * args[0].shape[-1]
        elif pk in flop_registry:
            try:
                flops = int(flop_registry[pk](*args, **kwargs, out_val=out))
            except Exception as e:  # noqa
                flops = -1
        in_keys = {}
        for a in ins:
            if a.device.type != "meta":
                continue
            k = self._key(a)
            in_keys[k] = max(in_keys.get(k, 0), nbytes(a))
        is_view = func.is_view if hasattr(func, "is_view") else False
        out_new = 0
        for o in outs:
            k = self._key(o)
            if k in in_keys or k in self.param_keys:
                # view / in-place: no new memory
                if k in self.live:
                    self.live[k][1] += 1
                    weakref.finalize(o, self._release, k)
                continue
            if k in self.live:
                self.live[k][1] += 1
            else:
                sz = o.untyped_storage().nbytes()
                self.live[k] = [sz, 1]
                self.cur += sz
                out_new += sz
            weakref.finalize(o, self._release, k)
        if self.cur > self.peak:
            self.peak = self.cur
            self.peak_at = (len(self.ops), str(func))
        rd = sum(in_keys.values())
        wr = sum(nbytes(o) for o in outs)
        view_like = (out_new == 0 and len(outs) > 0 and all(self._key(o) in in_keys for o in outs))
        self.ops.append(dict(op=str(func), flops=flops, read=rd if not view_like else 0,
                             write=wr if not view_like else 0, view=view_like,
                             in_shapes=[(list(a.shape), str(a.dtype).replace('torch.', '')) for a in ins][:4],
                             out_shapes=[(list(o.shape), str(o.dtype).replace('torch.', '')) for o in outs][:2],
                             live=self.cur))
        return out


def run(name, postprocess=None):
    m = build(name)
    params = sum(p.numel() for p in m.parameters())
    wbytes = sum(nbytes(p) for p in m.parameters()) + sum(nbytes(b) for b in m.buffers())
    ids = torch.zeros(B, S, dtype=torch.long, device="meta")
    tr = Tracer()
    for p in list(m.parameters()) + list(m.buffers()):
        tr.param_keys.add(p.untyped_storage()._cdata)
    with torch.inference_mode(), tr:
        out = m(input_ids=ids, use_cache=False)
        logits = out.logits
        live_after = tr.cur
    return dict(model=name, params=params, weight_bytes=wbytes, peak_act=tr.peak, peak_at=tr.peak_at,
                live_after=live_after, logits_dtype=str(logits.dtype), ops=tr.ops)


if __name__ == "__main__":
    import os
    os.makedirs("traces", exist_ok=True)
    names = sys.argv[1:] or list(MODELS)
    for n in names:
        r = run(n)
        ops = r["ops"]
        real = [o for o in ops if not o["view"]]
        print(f"{n}: params={r['params']:,} weights={r['weight_bytes']/2**30:.4f}GiB ops={len(ops)} non-view={len(real)} "
              f"flops={sum(o['flops'] for o in ops):.4e} rd+wr={sum(o['read']+o['write'] for o in ops)/1e9:.2f}GB "
              f"peak_act={r['peak_act']/2**30:.4f}GiB at {r['peak_at']} logits={r['logits_dtype']} live_after={r['live_after']/2**30:.4f}")
        with open(f"traces/{n.split('/')[1]}.json", "w") as f:
            json.dump(r, f)
