/** Teacher-forced scoring of a real trace: where the model's prediction and reality part, in one call. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordedFrame, TraceFrame } from '../../src/trace/frame';
import { WRONG_LOGPROB } from '../helpers/fake-backend';
import { programs, replayWorld } from './world';

const ALL = ['sumList', 'sumListMarked', 'catcher', 'uncaught', 'usesAll', 'walk'] as const;

/** A model that writes a different value for local `name` at frame `index`. */
function wrongLocal(index: number, name: string, repr: string) {
  return (i: number, frame: RecordedFrame): TraceFrame | undefined => {
    if (i !== index || !('locals' in frame)) return undefined;
    return { event: frame.event, source: frame.source, locals: frame.locals.map(([key, value]) => [key, key === name ? repr : value]) };
  };
}

describe('scoreTrace', () => {
  for (const name of ALL) {
    test(`${name}: the replay model matches the real trace at every token, the end included`, async () => {
      const recorded = await programs[name]();
      const { predictor, backend } = await replayWorld(recorded);
      const score = await predictor.scoreTrace(recorded.frames, { complete: true });
      assert.equal(backend.calls.score, 1, 'one score call');
      assert.equal(backend.calls.generate, 0, 'no decoding');
      assert.equal(score.frames.length, recorded.frames.length);
      assert.equal(score.firstDivergence, undefined);
      assert.equal(score.cutByContext, false);
      for (const frame of score.frames) {
        assert.ok(frame.action.match && frame.state.match, `frame ${frame.index}`);
        assert.equal(frame.logprob, 0);
        assert.equal(frame.scores.length, frame.roles.length);
      }
      assert.deepEqual(score.end && { logprob: score.end.logprob, match: score.end.match }, { logprob: 0, match: true });
    });
  }

  test('a model that errs in one value diverges in that frame\'s state only, and recovers after it', async () => {
    const recorded = await programs.sumList();
    const { predictor } = await replayWorld(recorded, { mistake: wrongLocal(5, 'x', '99') });
    const score = await predictor.scoreTrace(recorded.frames, { complete: true });
    assert.equal(score.firstDivergence, 5);
    const frame = score.frames[5];
    assert.equal(frame.action.match, true);
    assert.equal(frame.state.match, false);
    assert.ok(frame.state.logprob <= WRONG_LOGPROB);
    assert.equal(frame.roles[frame.state.firstMismatch ?? -1], 'state');
    assert.deepEqual(score.frames.filter((f) => !(f.action.match && f.state.match)).map((f) => f.index), [5]);
  });

  test('a model that would run another line diverges in that frame\'s action', async () => {
    const recorded = await programs.walk();
    const other = (i: number, frame: RecordedFrame): TraceFrame | undefined => (i === 21 && 'locals' in frame ? { event: 'line', locals: frame.locals, source: '            total += fact(item)' } : undefined);
    const { predictor } = await replayWorld(recorded, { mistake: other });
    const score = await predictor.scoreTrace(recorded.frames);
    assert.equal(score.firstDivergence, 21);
    assert.equal(score.frames[21].action.match, false);
    assert.equal(score.frames[21].state.match, true);
    assert.equal(score.end, undefined, 'no end scored for an incomplete trace');
  });

  test('a wrong return value is a state divergence; the first of several is reported', async () => {
    const recorded = await programs.walk();
    const mistakes = (i: number, frame: RecordedFrame): TraceFrame | undefined => {
      if (i === 32 && frame.event === 'return') return { event: 'return', source: frame.source, value: '3' };
      return wrongLocal(33, 'total', '8')(i, frame);
    };
    const { predictor } = await replayWorld(recorded, { mistake: mistakes });
    const score = await predictor.scoreTrace(recorded.frames, { complete: true });
    assert.equal(score.firstDivergence, 32);
    assert.deepEqual([score.frames[32].action.match, score.frames[32].state.match], [true, false]);
    assert.deepEqual([score.frames[33].action.match, score.frames[33].state.match], [true, false]);
  });

  test('the teacher-forced entry frame is given: a model that would have invented other arguments does not diverge there', async () => {
    const recorded = await programs.sumListMarked();
    const { predictor } = await replayWorld(recorded, { forceEntry: true, mistake: wrongLocal(0, 'xs', '[7]') });
    const score = await predictor.scoreTrace(recorded.frames, { complete: true });
    assert.equal(score.frames[0].given, true);
    assert.equal(score.frames[0].state.match, false);
    assert.equal(score.firstDivergence, undefined);
  });

  test('scoring leaves the predicted world alone, mid-session included', async () => {
    const recorded = await programs.walk();
    const { predictor, sequence, backend } = await replayWorld(recorded);
    for (let i = 0; i < 10; i++) await predictor.stepInto();
    const tokens = sequence.tokens();
    const steps = predictor.steps;
    const score = await predictor.scoreTrace(recorded.frames, { complete: true });
    assert.equal(score.firstDivergence, undefined);
    assert.deepEqual(sequence.tokens(), tokens);
    assert.deepEqual(predictor.steps, steps);
    assert.equal(backend.calls.fork, 1);
    await predictor.stepInto();
    assert.equal(predictor.steps.length, 11);
  });

  test('frames that do not fit the context are left out and said to be', async () => {
    const recorded = await programs.walk();
    const { predictor } = await replayWorld(recorded, { contextLength: 400 });
    const score = await predictor.scoreTrace(recorded.frames, { complete: true });
    assert.equal(score.cutByContext, true);
    assert.ok(score.frames.length > 0 && score.frames.length < recorded.frames.length);
    assert.equal(score.end, undefined);
    const last = score.frames[score.frames.length - 1];
    assert.ok(predictor.promptLength + last.tokenStart + last.scores.length <= 400);
  });
});
