"""Reference values for Tailor's PPO arithmetic on a fixed rollout, computed with numpy.

Follows Ziegler et al. 2019 as TRL's PPOTrainer computes it: per-token rewards
-kl_coef * (logp - ref_logp) with the reward model's score added at the last token; GAE with
gamma and lambda, no value after the last token (delta_t = r_t + gamma V_{t+1} - V_t,
A_t = delta_t + gamma lambda A_{t+1}), returns = A + V; advantages whitened over all tokens of the
batch (unbiased variance, + 1e-8); the clipped surrogate mean(max(-A r, -A clip(r, 1-eps, 1+eps)))
with r = exp(logp_new - logp_old); the clipped value loss 0.5 mean(max((V-R)^2, (clip(V, V_old +- eps)
- R)^2)). Gradients are written out by hand: d/dlogp of -A r is -A r where the unclipped term is
taken (and inside the clip range when the clipped one is), else 0; d/dV is (V - R) for the taken
term, 0 for a clipped value outside its range; both divided by the token count (and 0.5 * 2 for the
value loss). KL is Schulman's k3 estimator, sum_t (exp(d) - 1 - d) with d = ref_logp - logp, and k1,
sum_t (logp - ref_logp). The adaptive controller: coef *= 1 + clip(kl/target - 1, -0.2, 0.2) * n/horizon.

Run: python3 ppo_reference.py > ppo.json
"""
import json

import numpy as np

kl_coef, gamma, lam, clip, vclip = 0.2, 1.0, 0.95, 0.2, 0.2
rollouts = [  # two responses of 3 and 2 tokens
    {"score": 1.5, "old": [-1.2, -0.4, -2.0], "ref": [-1.0, -0.9, -1.5], "values": [0.3, 0.1, -0.2],
     "new": [-1.0, -0.6, -1.5], "new_values": [0.5, 0.05, 0.4]},
    {"score": -0.5, "old": [-0.7, -1.1], "ref": [-0.8, -1.0], "values": [0.0, 0.4],
     "new": [-0.9, -0.3], "new_values": [-0.1, 0.45]},
]

rewards, advs, rets, k3, k1 = [], [], [], [], []
for r in rollouts:
    old, ref, v = (np.array(r[k], dtype=np.float64) for k in ("old", "ref", "values"))
    rw = -kl_coef * (old - ref)
    rw[-1] += r["score"]
    a = np.zeros_like(rw)
    last, next_v = 0.0, 0.0
    for t in reversed(range(len(rw))):
        delta = rw[t] + gamma * next_v - v[t]
        last = delta + gamma * lam * last
        a[t] = last
        next_v = v[t]
    rewards.append(rw.tolist())
    advs.append(a.tolist())
    rets.append((a + v).tolist())
    d = ref - old
    k3.append(float(np.sum(np.exp(d) - 1 - d)))
    k1.append(float(np.sum(old - ref)))

flat_a = np.concatenate([np.array(a) for a in advs])
white = (flat_a - flat_a.mean()) / np.sqrt(flat_a.var(ddof=1) + 1e-8)
old = np.concatenate([r["old"] for r in rollouts])
new = np.concatenate([r["new"] for r in rollouts])
ratio = np.exp(new - old)
unclipped = -white * ratio
clipped = -white * np.clip(ratio, 1 - clip, 1 + clip)
take_clipped = clipped > unclipped
n = len(new)
pg_loss = float(np.mean(np.where(take_clipped, clipped, unclipped)))
inside = (ratio >= 1 - clip) & (ratio <= 1 + clip)
g_pg = np.where(take_clipped, np.where(inside, -white * ratio, 0.0), -white * ratio) / n

v_old = np.concatenate([r["values"] for r in rollouts])
v_new = np.concatenate([r["new_values"] for r in rollouts])
returns = np.concatenate([np.array(r) for r in rets])
v_clipped = np.clip(v_new, v_old - vclip, v_old + vclip)
vu, vc = (v_new - returns) ** 2, (v_clipped - returns) ** 2
v_take = vc > vu
v_loss = float(0.5 * np.mean(np.where(v_take, vc, vu)))
v_inside = np.abs(v_new - v_old) <= vclip
g_v = np.where(v_take, np.where(v_inside, v_new - returns, 0.0), v_new - returns) / n

coef = 0.2
for kl in [8.0, 1.0, 6.1]:  # target 6, horizon 10000, batches of 16
    coef *= 1 + min(max(kl / 6 - 1, -0.2), 0.2) * 16 / 10000

print(json.dumps({
    "kl_coef": kl_coef, "gamma": gamma, "lambda": lam, "clip": clip, "value_clip": vclip, "rollouts": rollouts,
    "token_rewards": rewards, "advantages": advs, "returns": rets, "whitened": white.tolist(),
    "policy_loss": pg_loss, "policy_grad": g_pg.tolist(), "policy_clipfrac": float(np.mean(take_clipped)),
    "value_loss": v_loss, "value_grad": g_v.tolist(), "value_clipfrac": float(np.mean(v_take)),
    "kl_k3": k3, "kl_k1": k1, "adaptive": {"start": 0.2, "target": 6, "horizon": 10000, "batch": 16,
                                          "kls": [8.0, 1.0, 6.1], "coefficient": coef},
}, indent=1, sort_keys=True))
