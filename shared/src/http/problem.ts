// The one place where errors become HTTP: RFC 9457 problem+json, never a stack trace.
import type { ErrorRequestHandler, Response } from 'express';
import { AppError, type ErrorCode } from '../errors';
import { errorMessage, type Logger } from '../logger';
import { ValidationError, type ValidationIssue } from './validate';

export const PROBLEM_BASE = 'https://ridehail.example/problems/';

const statusByCode: Partial<Record<ErrorCode, number>> = {
  validation: 400,
  'malformed-json': 400,
  forbidden: 403,
  'rider-inactive': 403,
  'not-found': 404,
  conflict: 409,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  unavailable: 503,
};

const titleByStatus: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: ValidationIssue[];
}

export function sendProblem(res: Response, problem: Problem): void {
  res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
}

/** express's body-parser errors carry a `type` string; map them to our codes. */
function bodyParserCode(err: unknown): ErrorCode | undefined {
  if (typeof err !== 'object' || err === null || !('type' in err)) return undefined;
  switch ((err as { type: unknown }).type) {
    case 'entity.too.large':
      return 'payload-too-large';
    case 'entity.parse.failed':
      return 'malformed-json';
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return 'unsupported-media-type';
    default:
      return undefined;
  }
}

/**
 * Whatever else express's router or body-parser blames on the request carries a 4xx `status`: a path segment that is
 * not valid percent-encoding (400), a gzip body that does not inflate (400), a body shorter than its Content-Length.
 */
function requestFaultStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('status' in err)) return undefined;
  const status = (err as { status: unknown }).status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

export function toProblem(err: unknown, instance?: string): Problem {
  const parserCode = bodyParserCode(err);
  if (parserCode) {
    const status = statusByCode[parserCode] ?? 400;
    const detail = parserCode === 'malformed-json' ? 'the request body is not valid JSON' : errorMessage(err);
    return { type: PROBLEM_BASE + parserCode, title: titleByStatus[status] ?? 'Error', status, detail, instance };
  }
  const faultStatus = err instanceof AppError ? undefined : requestFaultStatus(err);
  if (faultStatus !== undefined) {
    const title = titleByStatus[faultStatus] ?? 'Bad Request';
    return { type: PROBLEM_BASE + 'bad-request', title, status: faultStatus, detail: errorMessage(err), instance };
  }
  if (err instanceof AppError) {
    const status = statusByCode[err.code] ?? 500;
    const problem: Problem = {
      type: PROBLEM_BASE + err.code,
      title: titleByStatus[status] ?? 'Error',
      status,
      detail: err.message,
      instance,
    };
    if (err instanceof ValidationError) problem.errors = err.issues;
    return problem;
  }
  return {
    type: PROBLEM_BASE + 'internal',
    title: titleByStatus[500] ?? 'Error',
    status: 500,
    detail: 'an unexpected error occurred',
    instance,
  };
}

export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const problem = toProblem(err, req.originalUrl);
    const requestId: unknown = res.locals['requestId'];
    const meta = { requestId, method: req.method, path: req.originalUrl, status: problem.status };
    if (problem.status >= 500) logger.error(`request failed: ${errorMessage(err)}`, meta);
    else logger.info(`request rejected: ${problem.detail}`, meta);
    sendProblem(res, problem);
  };
}
