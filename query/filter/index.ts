/** ss's socket filter language: AST and builders, parser, printer and evaluator. */
export * from './ast.js';
export { FilterSyntaxError } from './errors.js';
export { parseFilter, type ParseOptions } from './parse.js';
export { formatFilter } from './format.js';
export { createMatcher, matches, type FilterSocket, type MatchOptions } from './evaluate.js';
export { lookupCgroupId, lookupIfindex, lookupService, localPortRange } from './system.js';
export type { ServiceResolver } from './values.js';
export { describePlan, explainBytecode, planFilter, type CompileOptions, type FilterPlan } from './compile.js';
