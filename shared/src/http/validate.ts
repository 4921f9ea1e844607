// zod at the HTTP edge: parse or throw a validation AppError whose issues become problem+json `errors[]`.
import type { Response } from 'express';
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

function parseWith<S extends z.ZodType>(location: ValidationIssue['location'], schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data as z.infer<S>;
  throw new ValidationError(result.error.issues.map((i) => ({ location, path: i.path.join('.'), message: i.message })));
}

export const parseBody = <S extends z.ZodType>(schema: S, value: unknown) => parseWith('body', schema, value);
export const parseQuery = <S extends z.ZodType>(schema: S, value: unknown) => parseWith('query', schema, value);
export const parseParams = <S extends z.ZodType>(schema: S, value: unknown) => parseWith('params', schema, value);
export const parseHeaders = <S extends z.ZodType>(schema: S, value: unknown) => parseWith('headers', schema, value);

/** The request id the app factory assigned (also the `cause` of state changes made by HTTP). */
export function requestId(res: Response): string {
  const id: unknown = res.locals['requestId'];
  return typeof id === 'string' ? id : 'unknown';
}
