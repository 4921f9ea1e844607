// driver-service's routes for the OpenAPI document: the schemas routes.ts parses with, and those of its answers.
import { moneySchema, pointSchema, type ServiceApi } from '@ridehail/shared';
import { z } from 'zod';
import { driverListSchema, driverSchema, driverTotalsSchema, driverTripSchema, driverTripsSchema } from './responses';
import { createDriverBody, driverIdParams, listDriversQuery, locationBody, tripsQuery } from './schemas';

export const driverApi: ServiceApi = {
  description: 'Drivers, their positions and their trip history; reservations happen over the broker, never over HTTP.',
  tags: [{ name: 'drivers', description: 'Drivers, their positions and their trips' }],
  schemas: {
    Driver: driverSchema,
    DriverList: driverListSchema,
    DriverTrips: driverTripsSchema,
    DriverTotals: driverTotalsSchema,
    DriverTrip: driverTripSchema,
    Point: pointSchema,
    Money: moneySchema,
  },
  routes: [
    {
      method: 'post',
      path: '/drivers',
      operationId: 'createDriver',
      summary: 'Create a driver',
      tag: 'drivers',
      body: createDriverBody,
      responses: {
        201: {
          description: 'The driver (status defaults to AVAILABLE).',
          body: driverSchema,
          headers: { Location: { description: 'The path of the driver', schema: z.string(), required: true } },
        },
      },
    },
    {
      method: 'get',
      path: '/drivers',
      operationId: 'listDrivers',
      summary: 'List drivers',
      description: 'Newest first, at most `limit`; empty when nothing matches.',
      tag: 'drivers',
      query: listDriversQuery,
      responses: { 200: { description: 'The drivers.', body: driverListSchema } },
    },
    {
      method: 'get',
      path: '/drivers/:id',
      operationId: 'getDriver',
      summary: 'Read a driver',
      tag: 'drivers',
      params: driverIdParams,
      responses: { 200: { description: 'The driver.', body: driverSchema } },
    },
    {
      method: 'put',
      path: '/drivers/:id/location',
      operationId: 'moveDriver',
      summary: 'Move a driver',
      description: 'Any status; emits nothing.',
      tag: 'drivers',
      params: driverIdParams,
      body: locationBody,
      responses: { 200: { description: 'The driver at its new position.', body: driverSchema } },
    },
    {
      method: 'get',
      path: '/drivers/:id/trips',
      operationId: 'getDriverTrips',
      summary: 'A driver’s trip history',
      description: 'Totals over every trip, and one page of trips, newest first (keyset paging: pass `next` as `before`).',
      tag: 'drivers',
      params: driverIdParams,
      query: tripsQuery,
      responses: { 200: { description: 'The totals and one page of trips.', body: driverTripsSchema } },
    },
  ],
};
