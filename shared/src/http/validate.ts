// zod at the HTTP edge: parse or throw a validation AppError whose issues become problem+json `errors[]`.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import { AppError } from '../errors';

export interface ValidationIssue {
  location: 'body' | 'query' | 'params' | 'headers';
  path: string;
  message: string;
}

export class ValidationError extends AppError {
  constructor(readonly issues: ValidationIssue[]) {
    super('validation', issues.map((i) => `${i.location}${i.path ? '.' + i.path : ''}: ${i.message}`).join('; '));
  }
}

function parseWith<S extends z.ZodTypeAny>(location: ValidationIssue['location'], schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data as z.infer<S>;
  throw new ValidationError(result.error.issues.map((i) => ({ location, path: i.path.join('.'), message: i.message })));
}

export const parseBody = <S extends z.ZodTypeAny>(schema: S, value: unknown) => parseWith('body', schema, value);
export const parseQuery = <S extends z.ZodTypeAny>(schema: S, value: unknown) => parseWith('query', schema, value);
export const parseParams = <S extends z.ZodTypeAny>(schema: S, value: unknown) => parseWith('params', schema, value);
export const parseHeaders = <S extends z.ZodTypeAny>(schema: S, value: unknown) => parseWith('headers', schema, value);

/** Wraps an async express handler so its rejections reach the one error mapper (express 4 does not do it). */
export function route(handler: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    handler(req, res).catch(next);
  };
}

/** The request id the app factory assigned (also the `cause` of state changes made by HTTP). */
export function requestId(res: Response): string {
  const id: unknown = res.locals['requestId'];
  return typeof id === 'string' ? id : 'unknown';
}
