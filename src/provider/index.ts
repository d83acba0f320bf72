export { FileProvider, loadConfig, type FileProviderOptions } from './file-provider.js';
export { formatProblem, type LoadResult, type Problem } from './problem.js';
