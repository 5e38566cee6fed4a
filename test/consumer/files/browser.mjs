// The bundle-size entry of the consumer test, gated at 70 kB gzipped: a web page that imports
// @rewind/tensor, @rewind/autodiff and @rewind/rnn and differentiates one LSTM step (the issue's
// measure: 66 kB from sources when it was filed). esbuild bundles it for the browser, minified.
import { random } from "@rewind/tensor";
import { grad, sum } from "@rewind/autodiff";
import { lstm } from "@rewind/rnn";

const x = random.normal(random.key(1), [2, 3]);
const params = lstm.init(random.key(0), { inputSize: 3, hiddenSize: 8 });
const loss = (p) => sum(lstm.step(p)(lstm.initialCarry(2, p), x)[1]);
const g = grad(loss)(params);
document.body.textContent = `loss ${loss(params).data[0].toFixed(4)}, gradient of ${Object.keys(g).length} LSTM tensors`;
