"""The fixed paragraphs of :mod:`benchmarks.guarantee_report` (what was measured and why)."""

EXPLANATION = """\
`--target-accuracy A` now sets a split-conformal climbing threshold (Goren, Galil & El-Yaniv, NeurIPS 2024;
`hiergenre.cascade.conformal`) on the split's calibration clips (its `valid` part, which no model trained,
early-stopped or was chosen on) and promises: for a new clip exchangeable with them, P(the node named contains the
true genre) ≥ A, on average over calibration sets and new clips, and at most A + 1/(n+1) when scores are continuous.
The node temperatures are fitted on the same calibration clips (one number a node), a small departure from
exchangeability measured here end to end.

**Runs.** `collect` trains `train-all --split 70/30/0` once a seed (per genre 7 clips train, 3 calibrate: 30 clips a
run on gtzan-mini) and keeps the raw probabilities of those 30 clips by every node of the default tree and by the flat
model (their `validation.npz`). **Draws.** Each run's 30 clips are split at random 1000 times into 20 calibration and
10 test clips. Per draw, each node's temperature (and the flat model's) is fitted on the 20 calibration clips only
(`TemperatureScaling`, labels = the child towards the true genre), applied, and `decide` gives each clip's leaf
distribution and routed genre under three models: `flat` (the flat model, decoded over the default tree, so it can
name groups too), `default` (greedy routing) and `default+blend` (blend routing, flat weight 0.5). Then, for each A:
**conformal climb**: `conformal_guarantee` on the calibration clips, `climb` on the test clips; **today's rule**:
`choose_min_confidence` on the calibration clips (the smallest minimum confidence whose accuracy there reaches A),
then the confidence decoder's stop on the test clips (`confident_paths`, as the former `target_on_test`). Achieved =
share of test clips whose named node contains the true genre; *share given a genre* = share stopping at a genre.
**Control**: the same climb on raw probabilities (temperatures left at 1). Nothing is then fitted on the calibration
clips, so they and the test clips are exactly exchangeable and the mean must be k/(n+1) up to sampling noise (with
ties, higher); the gap between the conformal climb and the control is what fitting the temperatures on the
calibration clips costs.

**Reading the numbers.** The guarantee is about the mean over draws (and runs), not each draw: with 10 test clips a
draw's accuracy moves in steps of 10 points, and even exact split conformal leaves a sizeable share of draws below A
(the theory rows give the whole distribution for continuous exchangeable scores: coverage Beta(k, n+1−k),
k = ⌈(n+1)A⌉, then binomial on the test clips). Many clips score 0 (their routed genre is right), so scores tie and
the mean may exceed the upper end of the band; the lower end is what is promised. The standard error is over runs
(draws of one run share its 30 clips). **ECE**: per run, 3 folds of 10 clips rotate (temperatures fitted on the other
20), so every clip is scored once by temperatures it did not fit; all runs' clips are pooled and `ece_summary` is
computed on the routed genre's probability in the leaf distribution (top-1 for flat and blend, greedy's genre for
default); target: ECE − floor ≤ 0.01, the floor being the ECE a perfectly calibrated model shows with these
confidences on as many clips (`ece_if_calibrated`). Leaf accuracies come from the same cross-fitted pass."""

HALVES_TEXT = """\
Per genre in file-name order (10 clips), the training half's first 3 clips train and its last 2 calibrate (`valid`),
the other half's 5 clips test (`halves:1` trains on the first half, `halves:2` on the second): calibration and test
clips are by different artists, so they are **not** exchangeable and **no guarantee applies**. The deployed models
(LiteRT, as `predict` runs them) score the 50 test clips with their own temperatures (fitted by `train-all` on the 20
calibration clips); the thresholds are set on those 20 calibration clips (A = 0.95 needs 19). Mean and lowest over
the runs (seeds × halves)."""

SYNTHETIC_TEXT = """\
The embedded synthetic corpus (`hiergenre.data.synthetic.corpus.write_corpus`, seed 0: generated clips, not music),
60 clips a genre, is large enough to show the distribution with more calibration clips: one training with
`--split 20/80/0` (seed 0; 12 clips a genre train, 48 are held out), then 1000 redraws of 100 calibration clips and
the other 380 as test clips, temperatures refitted on each draw's calibration clips. The draws of a single run share
its 480 clips: the standard error is over draws and says how well the mean for this population is known.

The clip length was chosen so that the flat model's leaf accuracy on the 480 held-out clips lies between about 60%
and 90%, looking at that number only (the `synthetic` stage prints nothing else) before any conformal number was
computed: musicnn with 3 s clips (one musicnn patch each) gave 89.6%, kept; LMFCC with `--node-model stats`
(logistic regression on LMFCC statistics, chosen to keep it fast; the LMFCC CNN was not run on the synthetic corpus)
gave 46.2% on the same 3 s clips, outside the range, so those scores were discarded without looking at their
conformal numbers, and 63.5% on 10 s clips, kept. The ECE rows of a synthetic source come from one random split (100
calibration clips, the other 380 scored)."""
