/** Types of scripts/h5.mjs (plain ESM, shared by scripts/start.mjs and the test harnesses). */
export declare function newestMtime(dir: string): number;
export declare function h5IsStale(root: string): boolean;
export declare function h5Build(root: string): [string, string[], { cwd: string; env: NodeJS.ProcessEnv }];
