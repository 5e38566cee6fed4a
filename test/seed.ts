/**
 * @file The fixed fast-check seed of every test project (the root's and each package's): a
 * property run on CI is the run that passed here, and a failure reproduces from its printed path.
 */
import fc from "fast-check";

fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: 20261128 });
