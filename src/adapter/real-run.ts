/**
 * The real world of a session: the program run once under the tracer, to its end or to a limit, and
 * kept. Stepping through it afterwards is replay, so the real side can step back as freely as the
 * predicted one (and the program never runs twice unless the user restarts a record session).
 */
import type { RecordedFrame } from '../trace/frame';
import type { PromptProgram } from '../trace/prompt';
import { ProgramOutput, startTrace, TraceEnd, TraceLimits, TraceRun } from '../runtime/tracer';
import type { AlignPoint } from './alignment';
import { alignPoint, PlacedStep, placeRecorded } from './places';

export interface RealRunOptions {
  readonly programPath: string;
  readonly program: PromptProgram;
  readonly python?: string;
  readonly cwd?: string;
  readonly limits: Partial<TraceLimits>;
  /** Called as frames arrive (for progress). */
  readonly onFrame?: (count: number) => void;
}

export interface RecordedRun {
  readonly frames: readonly RecordedFrame[];
  readonly steps: readonly PlacedStep[];
  readonly points: readonly AlignPoint[];
  readonly output: readonly ProgramOutput[];
  readonly end: TraceEnd;
  readonly pythonVersion?: string;
}

export interface RealRun {
  readonly done: Promise<RecordedRun>;
  /** Kills the program (and its children); `done` resolves with what was recorded. */
  stop(): void;
  readonly pid: number | undefined;
}

export function startRealRun(options: RealRunOptions): RealRun {
  const trace: TraceRun = startTrace(
    { programPath: options.programPath, program: options.program, limits: options.limits, ...(options.python ? { python: options.python } : {}), ...(options.cwd ? { cwd: options.cwd } : {}) },
    { frame: (_frame, index) => options.onFrame?.(index + 1) },
  );
  const done = trace.done.then((result): RecordedRun => {
    const steps = result.frames.map(placeRecorded);
    return {
      frames: result.frames,
      steps,
      points: steps.map(alignPoint),
      output: result.output,
      end: result.end,
      ...(result.pythonVersion ? { pythonVersion: result.pythonVersion } : {}),
    };
  });
  return {
    done,
    stop: () => trace.stop(),
    get pid() {
      return trace.pid;
    },
  };
}
